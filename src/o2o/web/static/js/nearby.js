/* Nearby: the list of store cards and the map stay in sync.
   Moving or zooming the map asks GET /api/v1/stores/nearby for the map's centre; a card tap
   highlights its pin and a pin tap highlights its card. Without Leaflet the list still works. */
(function () {
  "use strict";
  var cfg = JSON.parse(document.getElementById("nearby-config").textContent);
  var text = cfg.text;
  var list = document.getElementById("store-list");
  var tpl = document.getElementById("card-template");
  var countEl = document.getElementById("results-count");
  var emptyEl = document.getElementById("list-empty");
  var form = document.getElementById("filters");
  var positionLabel = document.getElementById("position-label");
  var markers = {};
  var active = null;
  var quietUntil = 0;
  var seq = 0;
  var timer = null;
  var UNCLUSTER_ZOOM = 16;

  function fmt(s, values) {
    return s.replace(/%\((\w+)\)s/g, function (_m, k) { return values[k]; });
  }
  function dist(m) {
    if (m < 1000) { return fmt(text.m, { n: Math.max(10, Math.round(m / 10) * 10) }); }
    return fmt(text.km, { n: (m / 1000).toFixed(m >= 10000 ? 0 : 1) });
  }
  function deliveryMinutes(m) { return 5 * Math.round((15 + m / 200) / 5); }
  function pick(s, name) { return (cfg.zh && s[name + "_zh"]) || s[name] || ""; }

  var mapEl = document.getElementById("map");
  var map = window.O2OMap ? O2OMap.createMap(mapEl, cfg) : null;
  if (!map && mapEl) { mapEl.classList.add("map-unavailable"); }
  var layer = null;
  if (map) {
    layer = L.markerClusterGroup
      ? L.markerClusterGroup({ showCoverageOnHover: false, maxClusterRadius: 40, disableClusteringAtZoom: UNCLUSTER_ZOOM })
      : L.layerGroup();
    layer.addTo(map);
    map.setView([cfg.center.lat, cfg.center.lng], 14);
  }

  function cardFor(id) { return list.querySelector('.store-card[data-id="' + id + '"]'); }

  function activate(id, from) {
    id = String(id);
    active = id;
    list.querySelectorAll(".store-card.is-active").forEach(function (c) { c.classList.remove("is-active"); });
    Object.keys(markers).forEach(function (k) {
      markers[k].setIcon(O2OMap.pin("", k === id ? "is-active" : ""));
      markers[k].setZIndexOffset(k === id ? 1000 : 0);
    });
    var card = cardFor(id);
    if (card) {
      card.classList.add("is-active");
      if (from === "pin") {
        card.scrollIntoView({ block: "nearest", behavior: "smooth" });
        card.focus({ preventScroll: true });
      }
    }
    var marker = markers[id];
    if (map && marker && from === "card") {
      // Centre on the pin close enough that it leaves its cluster; this move does not re-query,
      // so the list the shopper is looking at stays put.
      clearTimeout(timer);
      quietUntil = Date.now() + 1500;
      map.setView(marker.getLatLng(), Math.max(map.getZoom(), UNCLUSTER_ZOOM));
    }
  }

  function setMarkers(items) {
    if (!map) { return; }
    layer.clearLayers();
    markers = {};
    items.forEach(function (s) {
      var id = String(s.id);
      var m = L.marker([s.lat, s.lng], {
        icon: O2OMap.pin("", id === active ? "is-active" : ""),
        title: s.name,
        alt: s.name,
        keyboard: true
      });
      m.on("click", function () { activate(id, "pin"); });
      markers[id] = m;
      layer.addLayer(m);
    });
  }

  function buildCard(s) {
    var node = tpl.content.firstElementChild.cloneNode(true);
    var name = pick(s, "name");
    node.id = "store-" + s.id;
    node.dataset.id = s.id;
    node.dataset.lat = s.lat;
    node.dataset.lng = s.lng;
    node.dataset.name = name;
    node.setAttribute("aria-labelledby", "store-" + s.id + "-name");
    var thumb = node.querySelector(".thumb");
    thumb.textContent = (pick(s, "merchant_name") || name).slice(0, 1);
    thumb.classList.add("cat-" + (s.category || "shop"));
    var title = node.querySelector(".card-title");
    title.id = "store-" + s.id + "-name";
    var link = title.querySelector("a");
    link.href = "/stores/" + s.id;
    link.textContent = name;
    var rating = node.querySelector(".rating");
    var reviews = node.querySelector(".reviews");
    if (s.rating) {
      rating.textContent = "★ " + s.rating;
      rating.setAttribute("aria-label", fmt(text.rated, { r: s.rating }));
      reviews.textContent = fmt(s.rating_count === 1 ? text.review : text.reviews, { num: s.rating_count });
    } else {
      rating.remove();
      reviews.textContent = text.noReviews;
    }
    node.querySelector(".dist").textContent = dist(s.distance_m);
    var status = node.querySelector(".status");
    status.classList.add(s.open_now ? "is-open" : "is-closed");
    status.textContent = s.open_now ? text.open : text.closed;
    var f = s.fulfilment || {};
    var badges = { "b-pickup": f.pickup, "b-delivery": f.delivery, "b-booking": f.booking, "b-reserve": f.reserve, "b-scan": f.scan_go };
    Object.keys(badges).forEach(function (cls) {
      var b = node.querySelector("." + cls);
      if (!badges[cls]) { b.remove(); return; }
      if (cls === "b-delivery") { b.textContent = fmt(b.dataset.text, { min: deliveryMinutes(s.distance_m) }); }
    });
    return node;
  }

  function showCount(n, radius) {
    countEl.textContent = fmt(n === 1 ? text.count1 : text.count, { num: n, d: dist(radius) });
    emptyEl.hidden = n > 0;
  }

  function render(items, radius) {
    list.replaceChildren.apply(list, items.map(buildCard));
    showCount(items.length, radius);
    setMarkers(items);
    if (active && cardFor(active)) { activate(active, "refresh"); }
  }

  function params(radius) {
    var c = map ? map.getCenter() : { lat: cfg.center.lat, lng: cfg.center.lng };
    var p = new URLSearchParams();
    p.set("lat", c.lat.toFixed(5));
    p.set("lng", c.lng.toFixed(5));
    p.set("radius_m", String(Math.round(radius)));
    p.set("limit", "50");
    var data = new FormData(form);
    var q = (data.get("q") || "").trim();
    if (q) { p.set("q", q); }
    if (data.get("category")) { p.set("category", data.get("category")); }
    if (data.get("open_now")) { p.set("open_now", "true"); }
    return p;
  }

  function currentRadius() {
    if (!map) { return cfg.radius; }
    var r = map.getCenter().distanceTo(map.getBounds().getNorthEast());
    return Math.min(50000, Math.max(300, r));
  }

  function query() {
    var radius = currentRadius();
    var mine = ++seq;
    countEl.setAttribute("aria-busy", "true");
    fetch(cfg.api + "?" + params(radius).toString(), { headers: { Accept: "application/json" } })
      .then(function (r) {
        return r.json().then(function (body) { return r.ok ? body : Promise.reject(body); });
      })
      .then(function (body) {
        if (mine !== seq) { return; }
        render(body.items, radius);
      })
      .catch(function (problem) {
        if (mine !== seq) { return; }
        countEl.textContent = problem && problem.field === "q" ? text.badQuery : text.error;
      })
      .finally(function () { countEl.removeAttribute("aria-busy"); });
  }

  function soon() {
    clearTimeout(timer);
    timer = setTimeout(query, 300);
  }

  function syncUrl() {
    var p = new URLSearchParams(new FormData(form));
    ["q", "category"].forEach(function (k) { if (!p.get(k)) { p.delete(k); } });
    if (map) {
      var c = map.getCenter();
      p.set("lat", c.lat.toFixed(5));
      p.set("lng", c.lng.toFixed(5));
    }
    history.replaceState(null, "", "/nearby?" + p.toString());
  }

  // Initial pins from the server-rendered cards (no second request, no layout shift).
  var initial = Array.prototype.map.call(list.querySelectorAll(".store-card"), function (c) {
    return { id: c.dataset.id, lat: parseFloat(c.dataset.lat), lng: parseFloat(c.dataset.lng), name: c.dataset.name };
  });
  setMarkers(initial);

  list.addEventListener("click", function (e) {
    var card = e.target.closest(".store-card");
    if (!card || e.target.closest("a")) { return; }
    activate(card.dataset.id, "card");
  });
  list.addEventListener("keydown", function (e) {
    var card = e.target.closest(".store-card");
    if (card && e.target === card && (e.key === "Enter" || e.key === " ")) {
      e.preventDefault();
      activate(card.dataset.id, "card");
    }
  });

  if (map) {
    map.on("dragstart", function () { if (positionLabel) { positionLabel.textContent = text.mapCentre; } });
    map.on("moveend", function () {
      if (Date.now() < quietUntil) { return; }
      syncUrl();
      soon();
    });
  }

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    syncUrl();
    query();
  });
  form.querySelectorAll("select, input[type=checkbox]").forEach(function (el) {
    el.addEventListener("change", function () { syncUrl(); query(); });
  });

  var locate = document.getElementById("locate-me");
  if (locate) {
    if (!navigator.geolocation) { locate.hidden = true; }
    locate.addEventListener("click", function () {
      navigator.geolocation.getCurrentPosition(function (pos) {
        var here = [pos.coords.latitude, pos.coords.longitude];
        if (positionLabel) { positionLabel.textContent = text.nearYou; }
        if (map) {
          L.circleMarker(here, { radius: 7, color: "#fff", weight: 3, fillColor: "#1677ff", fillOpacity: 1 }).addTo(map);
          map.setView(here, 15);
        } else {
          window.location.href = "/nearby?lat=" + here[0].toFixed(5) + "&lng=" + here[1].toFixed(5);
        }
      });
    });
  }
  document.body.dataset.nearbyReady = "1";
})();
