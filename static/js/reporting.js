// Reports: progressive enhancement only (the page is a plain GET form without this file).
(function () {
  "use strict";
  // Typing a date means "custom dates": switch the period before htmx sends the form
  // (capture phase, so this runs before htmx's own change listener on the form).
  document.addEventListener("change", function (e) {
    var input = e.target;
    if (!input.matches || !input.matches("[data-report-form] input[type=date]")) return;
    var period = input.form && input.form.querySelector("select[name=period]");
    if (period) period.value = "custom";
  }, true);
  // A report with a mistake in it answers 400 with the field errors: show them (htmx leaves
  // 4xx answers unswapped by default).
  document.addEventListener("htmx:beforeSwap", function (e) {
    var source = e.detail.requestConfig && e.detail.requestConfig.elt;
    if (e.detail.xhr.status === 400 && source && source.closest("[data-report-form]")) {
      e.detail.shouldSwap = true;
      e.detail.isError = false;
    }
  });
})();
