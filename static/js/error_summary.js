// A form's error summary (templates/includes/error_summary.html) takes focus when it
// appears, so a screen reader reads the problems and the keyboard starts from them
// (GOV.UK's and the Danish common design system's pattern). Its links put focus in the
// field itself: a plain jump to the id would only scroll, a group of radios or check
// boxes has no element with the field's own id, and forms on one page may share ids.
(function () {
  const seen = new WeakSet();

  function focusNew() {
    const fresh = Array.from(document.querySelectorAll("[data-error-summary]"))
      .filter((summary) => !seen.has(summary));
    fresh.forEach((summary) => seen.add(summary));
    if (fresh.length) fresh[0].focus();
  }

  document.addEventListener("click", (event) => {
    const link = event.target.closest && event.target.closest("[data-error-summary] a[href^='#']");
    if (!link) return;
    // The summary's own form first: a page with several forms may repeat a field's id.
    const id = `#${CSS.escape(link.getAttribute("href").slice(1))}`;
    const byName = `[name="${CSS.escape(link.dataset.field || "")}"]:not([disabled])`;
    const form = link.closest("form");
    const target = (form && (form.querySelector(id) || form.querySelector(byName))) ||
      document.querySelector(id) || document.querySelector(byName);
    if (!target) return;
    event.preventDefault();
    // The field's label or legend in view too, not just the input under it.
    const context = target.closest("fieldset, .field") || target;
    context.scrollIntoView({ block: "start" });
    target.focus({ preventScroll: true });
  });

  // After focus.js has put focus back where the swap happened: the problems come first.
  document.addEventListener("htmx:afterSettle", focusNew);
  focusNew();
})();
