// After htmx replaces part of the page, keyboard focus stays where the change happened
// (WCAG 2.4.3) instead of falling back to the top of the page. htmx itself refocuses an
// element with the same id; for anything else the same field or link in the new content is
// focused, else the first control there, else the page's heading (when the part is gone,
// e.g. a dismissed banner).
(function () {
  const CONTROLS = "a[href], button:not([disabled]), input:not([type=hidden]):not([disabled]), " +
    "select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex='-1'])";
  let before = null;

  function same(scope, was) {
    if (!was.key) return null;
    return Array.from(scope.querySelectorAll(was.key)).find(
      (el) => el.type !== "radio" || el.value === was.value) || null;
  }

  document.addEventListener("htmx:beforeSwap", (event) => {
    const active = document.activeElement;
    const target = event.detail.target;
    if (!active || active === document.body || !target || !target.contains(active)) {
      before = null;
      return;
    }
    let key = null;
    if (active.name) key = `[name="${CSS.escape(active.name)}"]`;
    else if (active.getAttribute("href")) key = `a[href="${CSS.escape(active.getAttribute("href"))}"]`;
    before = { region: target.id, key: key, value: active.value };
    // htmx swaps right after this event (we use no swap delay), and announces the end of
    // it on the element that asked, which may be gone with the part it replaced: look
    // once the swap is done instead.
    setTimeout(restore, 0);
  });

  function restore() {
    const was = before;
    before = null;
    if (!was) return;
    const active = document.activeElement;
    if (active && active !== document.body && document.body.contains(active)) return;
    const region = was.region ? document.getElementById(was.region) : null;
    let next = same(region || document, was) || (region && region.querySelector(CONTROLS));
    if (!next) {
      next = document.querySelector("main h1");
      if (next) next.setAttribute("tabindex", "-1");
    }
    if (next) next.focus();
  }
})();
