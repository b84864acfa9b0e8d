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
    // A data table wider than a phone scrolls inside its card (app.css): make it reachable by
    // keyboard so its hidden columns can be scrolled to without a pointer.
    function focusableScrollers() {
      document.querySelectorAll("table.data").forEach(function (t) {
        if (t.scrollWidth > t.clientWidth + 1) t.tabIndex = 0;
        else if (t.getAttribute("tabindex") === "0") t.removeAttribute("tabindex");
      });
    }
    focusableScrollers();
    window.addEventListener("resize", focusableScrollers);
    document.body.addEventListener("htmx:afterSettle", focusableScrollers);
    // Tree branches: <button data-fold="id" aria-expanded> shows or hides the list #id.
    document.addEventListener("click", function (e) {
      var btn = e.target.closest("[data-fold]");
      if (!btn) return;
      var branch = document.getElementById(btn.getAttribute("data-fold"));
      if (!branch) return;
      var open = btn.getAttribute("aria-expanded") !== "true";
      btn.setAttribute("aria-expanded", String(open));
      branch.hidden = !open;
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
    // The htmx contract (badgeplatform/htmx.py): an invalid form comes back as 422 with the
    // errors beside the fields and is swapped in (responseHandling in base.html). Any other
    // error is not swapped, so say what happened instead of leaving the click without effect.
    var ERRORS = {
      400: "The page sent something the server could not use. Reload the page and try again.",
      403: "You are not allowed to do that. Reload the page to see what you may do here.",
      404: "That is no longer there: it may have been removed. Reload the page.",
      409: "That changed in the meantime. Reload the page and try again.",
      413: "That is too large to send. Choose a smaller file.",
      429: "Too many requests in a short time. Wait a minute and try again.",
    };
    function showError(text) {
      var box = document.getElementById("htmx-error");
      if (!box) {
        box = document.createElement("div");
        box.id = "htmx-error";
        box.className = "alert error";
        box.setAttribute("role", "alert");
        box.tabIndex = -1;
        var host = document.querySelector("main") || document.body;
        host.insertBefore(box, host.firstChild);
      }
      box.textContent = text;
      box.hidden = false;
      box.focus();
    }
    document.body.addEventListener("htmx:responseError", function (e) {
      var status = e.detail.xhr.status;
      showError(
        ERRORS[status] ||
          (status >= 500
            ? "Something went wrong on our side (error " + status + "). Try again in a " +
              "moment; if it keeps happening, reload the page."
            : "The request was refused (error " + status + "). Reload the page and try again.")
      );
    });
    document.body.addEventListener("htmx:sendError", function () {
      showError("The server could not be reached. Check your connection and try again.");
    });
    document.body.addEventListener("htmx:beforeRequest", function () {
      var box = document.getElementById("htmx-error");
      if (box) box.hidden = true;
    });
    // Confirm dangerous submits: <button data-confirm="Are you sure?">.
    document.addEventListener("submit", function (e) {
      var btn = e.submitter;
      if (btn && btn.dataset.confirm && !window.confirm(btn.dataset.confirm)) e.preventDefault();
    });
    // <button data-print> prints the page (the claim poster).
    document.addEventListener("click", function (e) {
      if (e.target.closest && e.target.closest("[data-print]")) window.print();
    });
  });
})();
