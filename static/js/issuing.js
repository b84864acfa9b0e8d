// Issuing pages, progressive enhancement only: every form works without this file.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    // Time zone fields start at the site's zone; the browser knows the person's own.
    var zone;
    try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone; } catch (e) { zone = ""; }
    if (!zone) return;
    document.querySelectorAll("input[data-browser-tz]").forEach(function (input) {
      // Only the untouched default: a zone the person typed (and sent back) is kept.
      if (input.value === input.dataset.browserTz) input.value = zone;
    });
  });
})();
