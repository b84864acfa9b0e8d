// Users list: "select all on page", the selected count, and only the bulk fields the chosen
// action needs. Progressive enhancement: without it, every field shows and the
// "Select all on this page" link reloads the page with every box ticked.
(function () {
  "use strict";
  function region() { return document.getElementById("results"); }
  function boxes(root) { return root.querySelectorAll('input[type=checkbox][name=member]'); }
  function refresh() {
    var root = region();
    if (!root) return;
    var all = boxes(root), n = 0;
    all.forEach(function (b) { if (b.checked) n++; });
    var count = root.querySelector("[data-selected-count]");
    if (count) count.textContent = String(n);
    var head = root.querySelector("[data-select-all]");
    if (head) {
      head.hidden = false;
      head.checked = all.length > 0 && n === all.length;
      head.indeterminate = n > 0 && n < all.length;
    }
    var link = root.querySelector("[data-select-all-link]");
    if (link) link.hidden = true; // the header checkbox does it now
    var action = root.querySelector("select[name=action]");
    var chosen = action ? action.value : "";
    root.querySelectorAll("[data-for-action]").forEach(function (el) {
      el.hidden = !!chosen && el.getAttribute("data-for-action").split(" ").indexOf(chosen) === -1;
      if (!chosen) el.hidden = true;
    });
  }
  document.addEventListener("change", function (e) {
    var root = region();
    if (!root || !root.contains(e.target)) return;
    if (e.target.matches("[data-select-all]")) {
      boxes(root).forEach(function (b) { b.checked = e.target.checked; });
    }
    refresh();
  });
  document.addEventListener("DOMContentLoaded", refresh);
  document.addEventListener("htmx:afterSettle", refresh);
})();
