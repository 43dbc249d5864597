// NHS.UK frontend components (the bundle does not start itself). A module script runs only in browsers that the
// components support, so the class they require is added here rather than by an inline script.
import { initAll } from '/static/vendor/nhsuk-frontend/nhsuk-frontend.min.js'

document.body.classList.add('js-enabled', 'nhsuk-frontend-supported')
initAll()
