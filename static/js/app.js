// Progressive enhancement only: every page works without this file.
(function () {
  "use strict";
  var KEY = "bp.sidebar.collapsed";
  function applyCollapsed(shell, collapsed) {
    shell.classList.toggle("collapsed", collapsed);
    var btn = shell.querySelector(".collapse-toggle");
    if (btn) {
      btn.setAttribute("aria-expanded", String(!collapsed));
      btn.textContent = collapsed ? "»" : "« Collapse menu";
    }
  }
  document.addEventListener("DOMContentLoaded", function () {
    var shell = document.querySelector(".shell");
    if (shell) {
      applyCollapsed(shell, localStorage.getItem(KEY) === "1");
      var btn = shell.querySelector(".collapse-toggle");
      if (btn) {
        btn.hidden = false;
        btn.addEventListener("click", function () {
          var collapsed = !shell.classList.contains("collapsed");
          localStorage.setItem(KEY, collapsed ? "1" : "0");
          applyCollapsed(shell, collapsed);
        });
      }
    }
    // Close an open <details class="menu"> when clicking elsewhere.
    document.addEventListener("click", function (e) {
      document.querySelectorAll("details.menu[open]").forEach(function (d) {
        if (!d.contains(e.target)) d.removeAttribute("open");
      });
    });
    // Copy buttons: <button data-copy="text">.
    document.addEventListener("click", function (e) {
      var btn = e.target.closest("[data-copy]");
      if (!btn || !navigator.clipboard) return;
      navigator.clipboard.writeText(btn.getAttribute("data-copy")).then(function () {
        var old = btn.textContent;
        btn.textContent = "Copied";
        setTimeout(function () { btn.textContent = old; }, 1500);
      });
    });
    // An invalid form answered by htmx comes back as 400 with the errors beside the fields:
    // swap it in like a success (htmx leaves 4xx responses out by default).
    document.body.addEventListener("htmx:beforeSwap", function (e) {
      if (e.detail.xhr.status === 400) {
        e.detail.shouldSwap = true;
        e.detail.isError = false;
      }
    });
    // Confirm dangerous submits: <button data-confirm="Are you sure?">.
    document.addEventListener("submit", function (e) {
      var btn = e.submitter;
      if (btn && btn.dataset.confirm && !window.confirm(btn.dataset.confirm)) e.preventDefault();
    });
  });
})();
