/* Store page: a small map with the store's pin. */
(function () {
  "use strict";
  var cfgEl = document.getElementById("store-config");
  if (!cfgEl || !window.O2OMap) { return; }
  var cfg = JSON.parse(cfgEl.textContent);
  var map = O2OMap.createMap(document.getElementById("store-map"), cfg, { scrollWheelZoom: false });
  if (!map) { return; }
  map.setView([cfg.lat, cfg.lng], 16);
  L.marker([cfg.lat, cfg.lng], { icon: O2OMap.pin(cfg.name, "is-active"), title: cfg.name }).addTo(map);
})();
