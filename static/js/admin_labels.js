// The admin's autocomplete (select2) draws its own box and ignores the select's aria-label:
// name the box after the field, on the page and in every row added later. Loaded after
// the admin's autocomplete.js, so these handlers run after select2's own.
(function ($) {
  function name(root) {
    $(root).find("select.admin-autocomplete[aria-label]").each(function () {
      $(this).next(".select2").find(".select2-selection__rendered")
        .attr("aria-label", this.getAttribute("aria-label"));
    });
  }
  $(() => name(document));
  document.addEventListener("formset:added", (event) => name(event.target));
})(django.jQuery);
