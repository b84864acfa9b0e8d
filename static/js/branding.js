// Branding settings, progressive enhancement only: the forms work without this file.
// - colour pickers beside the #RRGGBB inputs, a live preview and live WCAG contrast warnings;
// - placeholder buttons that insert {{name}} at the cursor;
// - the email preview refreshes itself while you type.
(function () {
  "use strict";
  var HEX = /^#[0-9a-fA-F]{6}$/;
  var AA = 4.5;

  function channel(v) {
    var c = v / 255;
    return c <= 0.04045 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4);
  }
  function luminance(hex) {
    var r = parseInt(hex.substr(1, 2), 16), g = parseInt(hex.substr(3, 2), 16), b = parseInt(hex.substr(5, 2), 16);
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
  }
  function contrast(a, b) {
    var la = luminance(a), lb = luminance(b);
    return (Math.max(la, lb) + 0.05) / (Math.min(la, lb) + 0.05);
  }

  function setupColours(form) {
    var preview = document.querySelector("[data-brand-preview]");
    var inputs = {
      nav_bg: form.querySelector("[name=nav_bg]"),
      nav_text: form.querySelector("[name=nav_text]"),
      accent: form.querySelector("[name=accent]")
    };
    var props = { nav_bg: "--brand-nav-bg", nav_text: "--brand-nav-text", accent: "--brand-accent" };

    function value(key) {
      var v = (inputs[key].value || "").trim();
      return HEX.test(v) ? v.toLowerCase() : null;
    }
    function refresh() {
      Object.keys(inputs).forEach(function (key) {
        var v = value(key);
        if (v && preview) preview.style.setProperty(props[key], v);
      });
      var bg = value("nav_bg"), text = value("nav_text"), accent = value("accent");
      var checks = { nav: bg && text ? contrast(text, bg) : null, accent: accent ? contrast("#ffffff", accent) : null };
      Object.keys(checks).forEach(function (key) {
        var box = form.querySelector('[data-contrast="' + key + '"]');
        if (!box || checks[key] === null) return;
        var ratio = checks[key];
        box.hidden = ratio >= AA;
        box.textContent = box.dataset.contrastLabel + ": contrast " + ratio.toFixed(2) +
          ":1 is below the WCAG AA minimum of 4.5:1, so some people will struggle to read it.";
      });
    }

    form.querySelectorAll("[data-colour-picker]").forEach(function (picker) {
      var text = document.getElementById(picker.dataset.colourPicker);
      if (!text) return;
      picker.hidden = false;
      if (HEX.test(text.value.trim())) picker.value = text.value.trim().toLowerCase();
      picker.addEventListener("input", function () {
        text.value = picker.value;
        refresh();
      });
      text.addEventListener("input", function () {
        var v = text.value.trim();
        if (HEX.test(v)) picker.value = v.toLowerCase();
        refresh();
      });
    });
    refresh();
    form.dataset.enhanced = "";
  }

  function setupEmail(form) {
    var last = form.querySelector("textarea[data-placeholder-target]");
    form.querySelectorAll("[data-placeholder-target]").forEach(function (field) {
      field.addEventListener("focus", function () { last = field; });
    });
    form.querySelectorAll("[data-insert]").forEach(function (button) {
      button.addEventListener("click", function () {
        if (!last) return;
        var text = button.dataset.insert;
        var start = last.selectionStart, end = last.selectionEnd;
        if (typeof start !== "number") { start = end = last.value.length; }
        last.value = last.value.slice(0, start) + text + last.value.slice(end);
        last.focus();
        last.setSelectionRange(start + text.length, start + text.length);
        last.dispatchEvent(new Event("input", { bubbles: true }));
      });
    });
    // Refresh the preview a moment after typing stops (the Preview button does it by hand).
    var previewButton = form.querySelector("[data-preview-button]");
    var timer = null;
    if (previewButton && form.requestSubmit) {
      form.addEventListener("input", function () {
        clearTimeout(timer);
        timer = setTimeout(function () { form.requestSubmit(previewButton); }, 700);
      });
    }
    form.dataset.enhanced = "";
  }

  // A field's server-side error goes once the person edits that field again.
  function clearErrorsOnInput(form) {
    form.addEventListener("input", function (e) {
      var field = e.target.closest(".field.has-error");
      if (!field) return;
      field.classList.remove("has-error");
      var errors = field.querySelector(".errors");
      if (errors) errors.hidden = true;
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-colour-form], [data-email-form]").forEach(clearErrorsOnInput);
    var colours = document.querySelector("[data-colour-form]");
    if (colours) setupColours(colours);
    var email = document.querySelector("[data-email-form]");
    if (email) setupEmail(email);
  });
})();
