/* The dispatch board: a map of the region's couriers (by state) and open orders (by
   lateness), kept live from the region's event stream. A courier's new position moves its
   marker at once; any other change reloads the board fragment, markers' data included. */
(function () {
  "use strict";
  var root = document.getElementById("dispatch");
  var cfgEl = document.getElementById("dispatch-config");
  if (!root || !cfgEl) return;
  var cfg = JSON.parse(cfgEl.textContent);
  var state = document.getElementById("live-state");
  var picker = document.getElementById("region-select");
  if (picker) {
    picker.addEventListener("change", function () { picker.form.submit(); });
  }

  var mapEl = document.getElementById("dispatch-map");
  var map = mapEl && window.O2OMap ? window.O2OMap.createMap(mapEl, cfg) : null;
  var couriers = {}; // id -> marker
  var orders = map ? L.layerGroup().addTo(map) : null;
  var fitted = false;

  function courierIcon(c) {
    return L.divIcon({
      className: "courier-pin cs-" + c.state,
      html: '<span class="cp-dot" data-courier="' + c.id + '">' + (c.open || "") + "</span>",
      iconSize: [26, 26],
      iconAnchor: [13, 13],
      tooltipAnchor: [0, -12]
    });
  }

  function orderIcon(o) {
    return L.divIcon({
      className: "pin order-pin l-" + o.lateness,
      html: '<span class="pin-dot" data-delivery="' + o.id + '"></span>',
      iconSize: [28, 36],
      iconAnchor: [14, 34],
      tooltipAnchor: [0, -30]
    });
  }

  function draw() {
    var dataEl = document.getElementById("board-data");
    if (!map || !dataEl) return;
    var data = JSON.parse(dataEl.textContent);
    var seen = {};
    var bounds = [];
    data.couriers.forEach(function (c) {
      seen[c.id] = true;
      var marker = couriers[c.id];
      if (marker) {
        marker.setLatLng([c.lat, c.lng]);
        marker.setIcon(courierIcon(c));
      } else {
        marker = L.marker([c.lat, c.lng], { icon: courierIcon(c), zIndexOffset: 500 })
          .bindTooltip(c.name).addTo(map);
        couriers[c.id] = marker;
      }
      marker.courier = c;
      bounds.push([c.lat, c.lng]);
    });
    Object.keys(couriers).forEach(function (id) {
      if (!seen[id]) { map.removeLayer(couriers[id]); delete couriers[id]; }
    });
    orders.clearLayers();
    data.orders.forEach(function (o) {
      var label = "#" + o.order;
      L.polyline([o.store, [o.lat, o.lng]], {
        color: "#8a919c", weight: 2, dashArray: "4 5", interactive: false
      }).addTo(orders); // from the store to the door
      L.circleMarker(o.store, {
        radius: 5, color: "#1f2329", weight: 2, fillColor: "#fff", fillOpacity: 1, interactive: false
      }).addTo(orders);
      L.marker([o.lat, o.lng], { icon: orderIcon(o) }).bindTooltip(label).addTo(orders)
        .on("click", function () {
          var row = document.getElementById("delivery-" + o.id);
          if (row) { row.scrollIntoView({ behavior: "smooth", block: "center" }); row.classList.add("just-moved"); }
        });
      bounds.push([o.lat, o.lng]);
    });
    if (!fitted) {
      fitted = true;
      if (bounds.length > 1) map.fitBounds(bounds, { padding: [28, 28], maxZoom: 16 });
      else if (bounds.length) map.setView(bounds[0], 15);
      else map.setView(cfg.center, 13);
    }
  }

  function moved(message) {
    var marker = couriers[message.courier_id];
    if (!marker) { refresh(); return; } // new on the board: read it again
    marker.setLatLng([message.lat, message.lng]);
    if (marker.courier && marker.courier.state === "stale") refresh(); // heard from again
  }

  /* An operator choosing a courier must not lose the open menu to a refresh. */
  var pending = false;
  var timer = null;
  function busy() {
    var b = document.getElementById("board");
    var active = document.activeElement;
    return !!(b && active && b.contains(active) && active.tagName === "SELECT");
  }
  function refresh() {
    clearTimeout(timer);
    timer = setTimeout(function () {
      if (busy()) { pending = true; return; }
      pending = false;
      htmx.ajax("GET", root.dataset.board, { target: "#board", swap: "outerHTML" });
    }, 150);
  }
  document.addEventListener("focusout", function () {
    if (pending) setTimeout(function () { if (pending) refresh(); }, 50);
  });
  /* A courier chosen but not yet sent survives a refresh of the board. */
  var chosen = null;
  document.body.addEventListener("htmx:beforeSwap", function (e) {
    if (!e.detail.target || e.detail.target.id !== "board") return;
    if (e.detail.requestConfig && e.detail.requestConfig.verb !== "get") { chosen = null; return; }
    chosen = {};
    document.querySelectorAll("#board form.reassign select").forEach(function (el) {
      if (el.value) chosen[el.id] = el.value;
    });
  });
  document.body.addEventListener("htmx:afterSettle", function (e) {
    if (!e.target || e.target.id !== "board") return;
    if (chosen) {
      Object.keys(chosen).forEach(function (id) {
        var el = document.getElementById(id);
        var option = el && el.querySelector('option[value="' + chosen[id] + '"]');
        if (option && !option.disabled) el.value = chosen[id];
      });
      chosen = null;
    }
    draw();
    if (pending) refresh();
  });

  draw();
  var source = null;
  function connect() {
    if (!window.EventSource) return;
    source = new EventSource(root.dataset.stream);
    source.addEventListener("open", function () {
      state.textContent = root.dataset.tLive;
      state.classList.remove("is-offline");
      refresh(); // catch what happened while we were not listening
    });
    source.addEventListener("board", function (e) {
      var message = JSON.parse(e.data);
      if (message.type === "courier") moved(message);
      else refresh();
    });
    source.addEventListener("error", function () {
      state.textContent = root.dataset.tOffline;
      state.classList.add("is-offline");
      if (source.readyState === EventSource.CLOSED) setTimeout(connect, 5000);
    });
  }
  connect();
  setInterval(refresh, 30000); // lateness and ages move on with the clock
  window.addEventListener("pagehide", function () { if (source) source.close(); });
})();
