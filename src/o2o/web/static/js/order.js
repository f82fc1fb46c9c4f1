/* Order page: the status, code and timeline follow the order live (its event stream); the
   pickup QR opens full screen on tap; cancelling asks first. While a courier has the delivery,
   a map shows the store, the door and the courier, moved (with the ETA) by the tracking
   stream. */
(function () {
  "use strict";
  var live = document.getElementById("order-live");
  if (!live) { return; }
  var url = "/orders/" + live.dataset.order;

  function wireCode() {
    var open = document.getElementById("qr-open");
    var dialog = document.getElementById("qr-full");
    if (!open || !dialog || !dialog.showModal) { return; }
    open.addEventListener("click", function () { dialog.showModal(); });
    dialog.addEventListener("click", function (e) { if (e.target === dialog) { dialog.close(); } });
  }
  var track = null; // {panel, map, courier, source} while the live map is up

  function etaText(el, seconds) {
    if (seconds === null || seconds === undefined) { el.hidden = true; return; }
    var minutes = Math.ceil(seconds / 60);
    el.textContent = minutes < 1 ? el.dataset.soon : el.dataset.template.replace("__N__", String(minutes));
    el.hidden = false;
  }
  function clock(iso, zone) {
    var options = { hour: "2-digit", minute: "2-digit", hour12: false };
    try { return new Date(iso).toLocaleTimeString(document.documentElement.lang || undefined, Object.assign({ timeZone: zone }, options)); }
    catch (e) { return new Date(iso).toLocaleTimeString(undefined, options); }
  }
  function moveCourier(t) {
    var el = document.getElementById("track-map");
    var eta = document.getElementById("track-eta");
    if (eta) { etaText(eta, t.eta_seconds); }
    if (!t.position || !el) { return; }
    var at = [t.position.lat, t.position.lng];
    if (track.map) {
      if (track.courier) { track.courier.setLatLng(at); }
      else { track.courier = L.circleMarker(at, { radius: 9, className: "courier-dot" }).addTo(track.map); }
      if (!track.map.getBounds().contains(at)) { track.map.panTo(at); }
    }
    el.dataset.courierLat = String(t.position.lat);
    el.dataset.courierLng = String(t.position.lng);
    var seen = document.getElementById("track-seen");
    if (seen) { seen.textContent = seen.dataset.template.replace("__T__", clock(t.position.at, track.zone)); }
  }
  function startMap() {
    var panel = document.getElementById("track-panel");
    var cfgEl = document.getElementById("track-config");
    if (!panel || !cfgEl || (track && track.panel === panel)) { return; }
    var cfg = JSON.parse(cfgEl.textContent);
    var el = document.getElementById("track-map");
    track = { panel: panel, map: null, courier: null, source: null, zone: cfg.timezone };
    var map = window.O2OMap ? window.O2OMap.createMap(el, cfg) : null;
    if (map) {
      var bounds = [[cfg.store.lat, cfg.store.lng]];
      L.marker(bounds[0], { icon: window.O2OMap.pin("", "pin-store"), keyboard: false }).addTo(map);
      if (cfg.door) {
        bounds.push([cfg.door.lat, cfg.door.lng]);
        L.marker(bounds[1], { icon: window.O2OMap.pin("", "pin-door"), keyboard: false }).addTo(map);
      }
      var p = cfg.tracking.position;
      if (p) { bounds.push([p.lat, p.lng]); }
      map.fitBounds(bounds, { padding: [28, 28], maxZoom: 16 });
      track.map = map;
    }
    moveCourier(cfg.tracking);
    if (!window.EventSource) { return; }
    var source = new EventSource(el.dataset.stream);
    track.source = source;
    source.addEventListener("tracking", function (event) {
      var m = JSON.parse(event.data);
      if (m.type !== "tracking") { return; }
      if (m.delivery_status !== "assigned" && m.delivery_status !== "picked_up") { refresh(); return; }
      moveCourier(m);
    });
    window.addEventListener("pagehide", function () { source.close(); });
  }
  function stopMap() {
    if (!track) { return; }
    if (track.source) { track.source.close(); }
    if (track.map) { track.map.remove(); }
    track = null;
  }

  function refresh() {
    // Fetch this page again and swap in its live part: no reload, no lost scroll position.
    fetch(url, { headers: { Accept: "text/html" }, credentials: "same-origin" })
      .then(function (r) { if (!r.ok) { throw new Error(String(r.status)); } return r.text(); })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html");
        var next = fresh.getElementById("order-live");
        if (!next) { return; }
        // The live map carries on across the swap (its stream keeps moving the courier).
        var keep = track && next.querySelector("#track-panel");
        if (keep) { keep.replaceWith(track.panel); } else { stopMap(); }
        live.replaceWith(next);
        live = next;
        var cancel = document.querySelector(".cancel-form");
        if (cancel && !fresh.querySelector(".cancel-form")) { cancel.remove(); }
        wireCode();
        startMap();
      })
      .catch(function () { /* the next event tries again */ });
  }
  function listen() {
    if (!window.EventSource) { return; }
    var source = new EventSource(url + "/events");
    source.addEventListener("order", function (event) {
      var m = JSON.parse(event.data);
      if (m.status && m.status !== live.dataset.status) { refresh(); }
      // A courier took the delivery on: bring the map in.
      else if (m.type === "tracking" && m.courier && !document.getElementById("track-panel")) { refresh(); }
    });
    window.addEventListener("pagehide", function () { source.close(); });
  }
  var cancelForm = document.querySelector(".cancel-form");
  if (cancelForm) {
    cancelForm.addEventListener("submit", function (e) {
      if (!window.confirm(cancelForm.dataset.confirm)) { e.preventDefault(); }
    });
  }
  wireCode();
  startMap();
  if (!live.dataset.final) { listen(); }
  document.body.dataset.orderReady = "1";
})();
