// The header's menus are <details> elements, so they open and close without JavaScript;
// like any other menu they also close on Escape (focus back on the menu's button) and
// on a click or focus anywhere outside them, rather than staying open over the page.
(function () {
  const MENUS = "details.nav-menu[open]";

  document.addEventListener("keydown", (event) => {
    if (event.key !== "Escape") return;
    const menu = event.target.closest && event.target.closest(MENUS);
    if (menu) {
      menu.open = false;
      menu.querySelector("summary").focus();
      return;
    }
    document.querySelectorAll(MENUS).forEach((open) => { open.open = false; });
  });

  function closeOutside(event) {
    document.querySelectorAll(MENUS).forEach((menu) => {
      if (!menu.contains(event.target)) menu.open = false;
    });
  }
  document.addEventListener("click", closeOutside);
  document.addEventListener("focusin", closeOutside);
})();
