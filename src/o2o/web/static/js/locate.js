/* "Use my location": ask the browser, then show what is near that point. */
(function () {
  "use strict";
  var button = document.getElementById("use-location");
  if (!button) { return; }
  var error = document.getElementById("location-error");
  button.addEventListener("click", function () {
    function fail() {
      error.textContent = button.getAttribute("data-error");
      error.hidden = false;
    }
    if (!navigator.geolocation) { fail(); return; }
    button.setAttribute("aria-busy", "true");
    navigator.geolocation.getCurrentPosition(function (pos) {
      var lat = pos.coords.latitude.toFixed(5), lng = pos.coords.longitude.toFixed(5);
      window.location.href = "/nearby?lat=" + lat + "&lng=" + lng;
    }, function () { button.removeAttribute("aria-busy"); fail(); }, { timeout: 10000, maximumAge: 60000 });
  });
})();
