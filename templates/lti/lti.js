/* The tool's pages: post a form marked data-autosubmit at once (the Deep
 * Linking response), and tell the platform a dynamic registration is done. */
(function () {
  "use strict";
  var form = document.querySelector("form[data-autosubmit]");
  if (form) {
    form.submit();
  }
  if (document.querySelector("[data-lti-close]")) {
    (window.opener || window.parent).postMessage({ subject: "org.imsglobal.lti.close" }, "*");
  }
})();
