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
    var row = document.getElementById("courier-" + message.courier_id);
    var seen = row && row.querySelector(".dc-seen");
    if (seen && message.at) { seen.dataset.at = message.at; seen.setAttribute("datetime", message.at); tick(); }
    var marker = couriers[message.courier_id];
    if (!marker) { refresh(); return; } // new on the board: read it again
    marker.setLatLng([message.lat, message.lng]);
    var wasStale = (marker.courier && marker.courier.state === "stale") ||
      (row && row.dataset.state === "stale");
    if (wasStale) refresh(); // heard from again
  }

  /* Relative times tick between reloads: "seen 12 s ago" counts on from the position's own
     time (data-at) against the server's clock (the board's data-now, so a phone whose clock
     is off still counts right), and a courier silent past the stale threshold turns stale on
     the spot, in the list and on the map. */
  var skew = 0; // the server's clock minus this one, as of the board's last render
  function instant(iso) {
    return Date.parse(String(iso || "").replace(/(\.\d{3})\d+/, "$1"));
  }
  function syncClock() {
    var b = document.getElementById("board");
    var now = b ? instant(b.dataset.now) : NaN;
    if (!isNaN(now)) skew = now - Date.now();
  }
  function ago(seconds, b) {
    if (seconds < 60) return b.dataset.tSeconds.replace("%(n)s", String(seconds));
    return b.dataset.tMinutes.replace("%(n)s", String(Math.floor(seconds / 60)));
  }
  function goStale(row, b) {
    row.dataset.state = "stale";
    row.classList.add("is-stale");
    var dot = row.querySelector(".lg-dot");
    if (dot) dot.className = "lg-dot cs-stale";
    var text = row.querySelector(".dc-state");
    if (text) text.textContent = b.dataset.tStale;
    var marker = couriers[row.dataset.courier];
    if (marker && marker.courier) {
      marker.courier.state = "stale";
      marker.setIcon(courierIcon(marker.courier));
    }
  }
  function tick() {
    var b = document.getElementById("board");
    if (!b) return;
    var limit = Number(b.dataset.staleAfter);
    var now = Date.now() + skew;
    b.querySelectorAll(".dc-seen[data-at]").forEach(function (el) {
      var at = instant(el.dataset.at);
      if (isNaN(at)) return;
      var seconds = Math.max(0, Math.floor((now - at) / 1000));
      var text = ago(seconds, b);
      if (el.textContent !== text) el.textContent = text;
      var row = el.closest(".dispatch-courier");
      if (row && limit > 0 && seconds > limit && row.dataset.state !== "stale") goStale(row, b);
    });
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
    syncClock();
    tick();
    if (pending) refresh();
  });

  draw();
  syncClock();
  tick();
  setInterval(tick, 1000);
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
