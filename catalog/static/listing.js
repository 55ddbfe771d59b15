// Progressive help for the new-listing form (the form works without it): photos that are too
// many or too large are refused before minutes of uploading on a phone, and the button says
// the upload is under way so it is not pressed twice.
(function () {
  "use strict";
  var form = document.getElementById("listing-form");
  if (!form) { return; }
  var input = document.getElementById("images");
  var button = document.getElementById("save-listing");
  var maxBytes = Number(input.dataset.maxBytes), maxFiles = Number(input.dataset.maxFiles);
  var idle = button.textContent;
  function check() {
    var msg = "";
    if (input.files.length > maxFiles) { msg = input.dataset.tooMany; }
    for (var i = 0; i < input.files.length && !msg; i++) {
      if (input.files[i].size > maxBytes) { msg = input.files[i].name + ": " + input.dataset.tooLarge; }
    }
    input.setCustomValidity(msg);
    return msg;
  }
  input.addEventListener("change", function () { if (check()) { input.reportValidity(); } });
  form.addEventListener("submit", function (ev) {
    if (check()) { ev.preventDefault(); input.reportValidity(); return; }
    button.disabled = true;
    button.textContent = button.dataset.busy;
  });
  // Coming back to the page (the back button) must not leave the button disabled.
  window.addEventListener("pageshow", function () { button.disabled = false; button.textContent = idle; });
})();
