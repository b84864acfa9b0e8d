// Starts django-allauth's WebAuthn forms (static mfa/js/webauthn.js) from data attributes, so
// the pages need no inline script (CSP): <form data-webauthn="addForm|authenticateForm"
// data-webauthn-ids='{"…": "element id"}'>. A refused or cancelled passkey prompt is shown in
// the page's [data-webauthn-error] element instead of the console.
(function () {
  'use strict'
  function start () {
    document.querySelectorAll('[data-webauthn]').forEach(function (el) {
      var ids = JSON.parse(el.getAttribute('data-webauthn-ids'))
      window.allauth.webauthn.forms[el.getAttribute('data-webauthn')]({ ids: ids })
    })
  }
  document.addEventListener('allauth.error', function (event) {
    event.preventDefault()
    var box = document.querySelector('[data-webauthn-error]')
    if (box) {
      box.hidden = false
      box.textContent = 'The passkey was not used (' + (event.detail.exception && event.detail.exception.name || 'error') + '). Try again, or use another way.'
    }
  })
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start)
  else start()
})()
