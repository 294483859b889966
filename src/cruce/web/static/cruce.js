// cruce's own script: the pages work without it; it only adds small comforts.
// No inline script anywhere (the Content-Security-Policy forbids it), so everything lives here.
(function () {
  "use strict";
  document.documentElement.classList.add("js");
  // Ask before disabling an account or resetting a password.
  document.addEventListener("submit", function (event) {
    var button = event.submitter;
    if (button && button.dataset && button.dataset.confirm && !window.confirm(button.dataset.confirm)) {
      event.preventDefault();
    }
  });
})();
