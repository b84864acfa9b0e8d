// Reports: progressive enhancement only (the page is a plain GET form without this file).
(function () {
  "use strict";
  var DATE = "[data-report-form] input[type=date]";
  // Typing a date means "custom dates": switch the period before htmx sends the form
  // (capture phase, so this runs before htmx's own change listener on the form).
  // Chromium fires "change" on every keystroke that makes a whole date (year 2, 20, 202…):
  // a date is sent when the person leaves the field or presses Enter, so nobody is told
  // "out of range" while still typing the year.
  document.addEventListener("change", function (e) {
    var input = e.target;
    if (!input.matches || !input.matches(DATE)) return;
    var period = input.form && input.form.querySelector("select[name=period]");
    if (period) period.value = "custom";
    input.dataset.changed = "1";
    e.stopPropagation();
  }, true);
  document.addEventListener("focusout", function (e) {
    var input = e.target;
    if (!input.matches || !input.matches(DATE) || !input.dataset.changed) return;
    delete input.dataset.changed;
    input.form.dispatchEvent(new Event("report-dates", { bubbles: true }));
  });
  document.addEventListener("submit", function (e) {
    if (!e.target.matches("[data-report-form]")) return;
    e.target.querySelectorAll("input[type=date]").forEach(function (input) {
      delete input.dataset.changed;
    });
  }, true);
  // Requests are queued (hx-sync "queue last", which never aborts one: an aborted request is
  // an error in the console). An answer to a form that has changed since it was sent is
  // dropped, so a stale answer never overwrites what the person has just chosen or typed.
  function state(form) {
    return new URLSearchParams(new FormData(form)).toString();
  }
  document.addEventListener("htmx:beforeRequest", function (e) {
    var source = e.detail.requestConfig && e.detail.requestConfig.elt;
    var form = source && source.closest("[data-report-form]");
    if (form) e.detail.xhr.reportState = state(form);
  });
  // A report with a mistake in it answers 400 with the field errors: show them (htmx leaves
  // 4xx answers unswapped by default).
  document.addEventListener("htmx:beforeSwap", function (e) {
    var source = e.detail.requestConfig && e.detail.requestConfig.elt;
    var form = source && source.closest("[data-report-form]");
    if (!form) return;
    if (e.detail.xhr.reportState !== undefined && e.detail.xhr.reportState !== state(form)) {
      e.detail.shouldSwap = false;
      e.detail.isError = false;
      return;
    }
    if (e.detail.xhr.status === 400) {
      e.detail.shouldSwap = true;
      e.detail.isError = false;
    }
  });
})();
