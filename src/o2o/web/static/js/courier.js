/* The courier's page: a map of the tasks, and the phone's position sent while on shift. */
(function () {
  "use strict";
  var root = document.getElementById("courier");
  var cfgEl = document.getElementById("courier-config");
  if (!root || !cfgEl) { return; }
  var cfg = JSON.parse(cfgEl.textContent);
  var csrf = JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRF-Token"];

  var mapEl = document.getElementById("courier-map");
  var map = mapEl && window.O2OMap ? window.O2OMap.createMap(mapEl, cfg) : null;
  var mine = null;
  if (map) {
    var bounds = [];
    cfg.stops.forEach(function (s) {
      L.marker([s.lat, s.lng], { icon: window.O2OMap.pin("", s.kind === "door" ? "pin-door" : "") }).addTo(map);
      bounds.push([s.lat, s.lng]);
    });
    if (cfg.me) {
      mine = L.circleMarker([cfg.me.lat, cfg.me.lng], { radius: 8 }).addTo(map);
      bounds.push([cfg.me.lat, cfg.me.lng]);
    }
    if (bounds.length > 1) { map.fitBounds(bounds, { padding: [24, 24] }); }
    else if (bounds.length) { map.setView(bounds[0], 15); }
  }

  if (!cfg.onShift || !navigator.geolocation) { return; }
  var batch = [];
  function send() {
    if (!batch.length) { return; }
    var positions = batch.splice(0, 100);
    fetch("/courier/positions", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify({ positions: positions })
    }).catch(function () { batch = positions.concat(batch).slice(-100); });
  }
  navigator.geolocation.watchPosition(function (p) {
    var point = { lat: p.coords.latitude, lng: p.coords.longitude, at: new Date(p.timestamp).toISOString() };
    batch.push(point);
    if (mine) { mine.setLatLng([point.lat, point.lng]); }
  }, function () { /* location refused: the page says so when dispatch stops hearing us */ },
  { enableHighAccuracy: true, maximumAge: 10000 });
  setInterval(send, 15000);
  window.addEventListener("pagehide", send);
})();
