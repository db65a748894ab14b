// Submits a form marked data-autosubmit as soon as the page loads: the Media Library's picker frame
// posts its launch token to the picker this way, as a host application's page does.
(function () {
  "use strict";
  function go() {
    var form = document.querySelector("form[data-autosubmit]");
    if (form) form.submit();
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", go);
  else go();
})();
