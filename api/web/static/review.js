// Keyboard review on the claim page: j/k next/previous claim, a/r/e choose accept/reject/correct and move to the
// reason, n moves to the reason, ? shows the keys. Nothing is ever submitted by a key: the evaluator saves with the
// button (or Enter in a field of the form, as any form).
(function () {
  'use strict'
  var help = document.getElementById('keys-help')
  var toggle = document.getElementById('show-keys')
  var reason = document.getElementById('reason')
  if (toggle) {
    toggle.hidden = false
    toggle.addEventListener('click', function () { showHelp(help.hidden) })
  }

  function showHelp (show) {
    if (!help) return
    help.hidden = !show
    if (toggle) toggle.setAttribute('aria-expanded', String(show))
  }

  function typing (el) {
    if (!el) return false
    var tag = el.tagName
    return el.isContentEditable || tag === 'INPUT' || tag === 'TEXTAREA' || tag === 'SELECT'
  }

  function choose (key) {
    var radio = document.querySelector('input[name="decision"][data-key="' + key + '"]')
    if (!radio) return
    radio.checked = true
    radio.dispatchEvent(new Event('change', { bubbles: true }))
    if (radio.value === 'corrected') {
      var details = document.getElementById('corrections')
      if (details) details.open = true
    }
    if (reason) reason.focus()
  }

  document.addEventListener('keydown', function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) {
      if (event.key === 'Escape' && typing(event.target)) event.target.blur()
      return
    }
    var link
    switch (event.key) {
      case 'j': link = document.getElementById('next-claim'); break
      case 'k': link = document.getElementById('prev-claim'); break
      case 'a': case 'r': case 'e': choose(event.key); event.preventDefault(); return
      case 'n': if (reason) { reason.focus(); event.preventDefault() } return
      case '?': showHelp(help && help.hidden); event.preventDefault(); return
      case 'Escape': showHelp(false); return
      default: return
    }
    if (link) { event.preventDefault(); window.location.assign(link.href) }
  })
})()
