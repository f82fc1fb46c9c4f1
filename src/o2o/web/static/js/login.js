/* Demo logins: a tap fills the form. */
(function () {
  "use strict";
  document.querySelectorAll("[data-login]").forEach(function (b) {
    b.addEventListener("click", function () {
      document.getElementById("login").value = b.getAttribute("data-login");
      document.getElementById("password").value = b.getAttribute("data-password");
      document.getElementById("password").focus();
    });
  });
})();
