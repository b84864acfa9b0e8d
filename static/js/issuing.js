// Issuing pages, progressive enhancement only: every form works without this file.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    // The guided flow redirects after each action: a page load does not make a live region
    // speak, so focus moves to what the action said (an error summary, or "Added 3 people").
    var feedback = document.getElementById("step-feedback");
    if (feedback && feedback.children.length) feedback.focus();

    // Time zone fields start at the site's zone; the browser knows the person's own.
    var zone;
    try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone; } catch (e) { zone = ""; }
    if (!zone) return;
    document.querySelectorAll("input[data-browser-tz]").forEach(function (input) {
      // Only the untouched default: a zone the person typed (and sent back) is kept.
      if (input.value === input.dataset.browserTz) input.value = zone;
    });
  });

  // A running batch's progress card is swapped every second; a screen reader hears it through
  // one stable live region, told at most every ten seconds and when the batch ends.
  var lastTold = 0;
  document.addEventListener("htmx:afterSwap", function () {
    var region = document.getElementById("batch-announce");
    var card = document.getElementById("batch-progress");
    if (!region || !card) return;
    var text = card.getAttribute("data-announce") || "";
    var finished = card.getAttribute("data-running") !== "1";
    var now = Date.now();
    if (text && text !== region.textContent && (finished || now - lastTold >= 10000)) {
      region.textContent = text;
      lastTold = now;
    }
  });
})();
