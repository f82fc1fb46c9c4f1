/* Checkout: the sticky total follows the fulfilment choice; the map shows the stores that can
   fill the order (tap one to switch) and, for delivery or shipping, takes the address's place. */
(function () {
  "use strict";
  var form = document.getElementById("checkout");
  if (!form) { return; }
  var cfg = JSON.parse(document.getElementById("checkout-config").textContent);
  var total = document.getElementById("pay-total");
  var fee = document.getElementById("pay-fee");
  var button = document.getElementById("pay-button");
  var address = document.getElementById("address");
  var lat = document.getElementById("address-lat");
  var lng = document.getElementById("address-lng");
  var isSet = document.getElementById("address-set");
  var map = null;
  var spot = null;

  function chosen() { return form.querySelector('input[name="fulfilment"]:checked'); }
  function needsAddress() {
    var c = chosen();
    return !!c && address.dataset.when.split(" ").indexOf(c.value) >= 0;
  }
  function refresh() {
    var c = chosen();
    if (!c) { return; }
    total.textContent = c.dataset.total;
    fee.textContent = c.dataset.fee ? fee.dataset.text.replace("%(fee)s", c.dataset.fee) : "";
    button.textContent = c.value === "reserve" ? button.dataset.reserve : button.dataset.pay;
    button.disabled = false;
    address.hidden = !needsAddress();
    if (map) { setTimeout(function () { map.invalidateSize(); }, 0); }
  }
  function place(latlng) {
    lat.value = latlng.lat.toFixed(6);
    lng.value = latlng.lng.toFixed(6);
    isSet.hidden = false;
    if (!map) { return; }
    if (spot) { spot.setLatLng(latlng); } else { spot = L.marker(latlng, { title: "" }).addTo(map); }
  }
  function setUpMap() {
    if (!window.O2OMap) { return; }
    map = O2OMap.createMap(document.getElementById("checkout-map"), cfg, { scrollWheelZoom: false });
    if (!map) { return; }
    map.setView([cfg.store.lat, cfg.store.lng], 14);
    var stores = cfg.stores.length ? cfg.stores : [cfg.store];
    stores.forEach(function (s) {
      var active = s.id === cfg.store.id;
      var marker = L.marker([s.lat, s.lng], { icon: O2OMap.pin(s.name, active ? "is-active" : ""), title: s.name || "" });
      if (!active) {
        marker.on("click", function () {
          var link = document.querySelector('.store-choices a[data-store="' + s.id + '"]');
          if (link) { window.location.href = link.href.replace(/fulfilment=[^&]*/, "fulfilment=" + ((chosen() || {}).value || "")); }
        });
      }
      marker.addTo(map);
    });
    map.on("click", function (e) { if (needsAddress()) { place(e.latlng); } });
    if (cfg.address) { place(L.latLng(cfg.address.lat, cfg.address.lng)); }
  }
  document.getElementById("use-location").addEventListener("click", function () {
    var error = document.getElementById("location-error");
    var b = this;
    if (!navigator.geolocation) { error.textContent = b.dataset.error; error.hidden = false; return; }
    navigator.geolocation.getCurrentPosition(function (pos) {
      var here = { lat: pos.coords.latitude, lng: pos.coords.longitude };
      place(window.L ? L.latLng(here.lat, here.lng) : here);
      if (map) { map.setView([here.lat, here.lng], 15); }
    }, function () { error.textContent = b.dataset.error; error.hidden = false; }, { timeout: 10000 });
  });
  form.addEventListener("change", function (e) { if (e.target.name === "fulfilment") { refresh(); } });
  form.addEventListener("submit", function () {
    // One tap, one order: the one-time key guards the server; this spares a second request.
    setTimeout(function () { button.disabled = true; }, 0);
  });
  setUpMap();
  refresh();
  var problem = document.getElementById("checkout-error");
  if (problem) { problem.focus(); }
  document.body.dataset.checkoutReady = "1";
})();
