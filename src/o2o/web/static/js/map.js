/* Shared map set-up: Leaflet with the configured tiles; pins still show when tiles fail. */
(function () {
  "use strict";
  function createMap(el, cfg, options) {
    if (!window.L || !el) {
      if (el) { el.classList.add("map-unavailable"); }
      return null;
    }
    var map = L.map(el, Object.assign({ zoomControl: true, attributionControl: true }, options || {}));
    if (cfg.tiles) {
      var layer = L.tileLayer(cfg.tiles, { maxZoom: 19, attribution: cfg.attribution || "" });
      var failures = 0;
      layer.on("tileerror", function () {
        failures += 1;
        if (failures === 4) { el.classList.add("tiles-offline"); }
      });
      layer.addTo(map);
    }
    return map;
  }
  function pin(label, extraClass) {
    return L.divIcon({
      className: "pin" + (extraClass ? " " + extraClass : ""),
      html: '<span class="pin-dot"></span>',
      iconSize: [28, 36],
      iconAnchor: [14, 34],
      popupAnchor: [0, -30],
      tooltipAnchor: [0, -30]
    });
  }
  window.O2OMap = { createMap: createMap, pin: pin };
})();
