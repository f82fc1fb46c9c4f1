/* Product page: picking a size and colour shows the nearest stores that have that variant,
   with how many are left, from GET /api/v1/stores/nearby?variant_id=... */
(function () {
  "use strict";
  var cfg = JSON.parse(document.getElementById("product-config").textContent);
  var text = cfg.text;
  var form = document.getElementById("picker");
  if (!form) { return; }
  var list = document.getElementById("stock-list");
  var empty = document.getElementById("stock-empty");
  var tpl = document.getElementById("stock-row-template");
  var price = document.getElementById("price");
  var seq = 0;

  function fmt(s, values) { return s.replace(/%\((\w+)\)s/g, function (_m, k) { return values[k]; }); }
  function dist(m) {
    if (m < 1000) { return fmt(text.m, { n: Math.max(10, Math.round(m / 10) * 10) }); }
    return fmt(text.km, { n: (m / 1000).toFixed(m >= 10000 ? 0 : 1) });
  }
  function hhmm(min) {
    min = ((min % 1440) + 1440) % 1440;
    var h = Math.floor(min / 60), m = min % 60;
    return (h < 10 ? "0" : "") + h + ":" + (m < 10 ? "0" : "") + m;
  }
  function closesToday(week) {
    // The store's local time: its city's UTC offset (sent by the page).
    var now = new Date(Date.now() + cfg.utcOffset * 60000);
    var minute = now.getUTCHours() * 60 + now.getUTCMinutes();
    var day = (now.getUTCDay() + 6) % 7;
    var i, span;
    for (i = 0; i < week[day].length; i++) {
      span = week[day][i];
      if (span[0] <= minute && minute < span[1]) { return hhmm(span[1]); }
    }
    var prev = week[(day + 6) % 7];
    for (i = 0; i < prev.length; i++) {
      span = prev[i];
      if (span[0] <= minute + 1440 && minute + 1440 < span[1]) { return hhmm(span[1] - 1440); }
    }
    return null;
  }
  function picked() {
    var out = {};
    form.querySelectorAll("fieldset.options").forEach(function (fs) {
      var checked = fs.querySelector("input:checked");
      if (checked) { out[fs.dataset.attr] = checked.value; }
    });
    return out;
  }
  function variantFor(options) {
    return cfg.variantData.find(function (v) {
      return Object.keys(options).every(function (k) { return v.attributes[k] === options[k]; });
    });
  }
  function markChips(options) {
    // A chip whose combination with the other picks has no stock nearby is marked "none nearby".
    form.querySelectorAll("fieldset.options").forEach(function (fs) {
      var attr = fs.dataset.attr;
      fs.querySelectorAll("label.chip").forEach(function (label) {
        var input = label.querySelector("input");
        var probe = Object.assign({}, options);
        probe[attr] = input.value;
        var v = variantFor(probe);
        var out = !v || !cfg.totals[v.id];
        label.classList.toggle("is-out", out);
        label.title = out ? text.noneNearby : "";
      });
      var shown = fs.querySelector(".chosen-value");
      if (shown && options[attr]) { shown.textContent = cfg.names[options[attr]] || options[attr]; }
    });
  }
  function row(s) {
    var li = tpl.content.firstElementChild.cloneNode(true);
    li.dataset.store = s.id;
    var a = li.querySelector(".stock-name");
    a.href = "/stores/" + s.id;
    a.textContent = (cfg.zh && s.name_zh) || s.name;
    li.querySelector(".dist").textContent = dist(s.distance_m);
    var state = li.querySelector(".state");
    state.textContent = s.open_now ? text.open : text.closed;
    state.className = s.open_now ? "is-open" : "is-closed";
    var closes = s.open_now && s.fulfilment.pickup ? closesToday(s.opening_hours) : null;
    var pickup = li.querySelector(".pickup");
    if (closes) { pickup.textContent = fmt(text.pickupBy, { t: closes }); } else { pickup.remove(); }
    var delivery = li.querySelector(".delivery");
    if (s.fulfilment.delivery && s.distance_m <= s.delivery_radius_m) {
      delivery.textContent = fmt(text.delivered, { min: 5 * Math.round((15 + s.distance_m / 200) / 5) });
    } else { delivery.remove(); }
    var radio = li.querySelector(".pick-store input");
    radio.value = s.id;
    li.querySelector(".pick-store span").textContent = fmt(text.buyAt, { store: a.textContent });
    var left = li.querySelector(".left");
    left.textContent = fmt(text.left, { num: s.available_qty });
    left.dataset.qty = s.available_qty;
    if (s.available_qty <= 3) { left.classList.add("few"); }
    return li;
  }
  function buyable(yes, variantId) {
    // The buttons buy the variant shown, at the store picked in the list.
    document.getElementById("buy-variant").value = variantId;
    document.querySelectorAll("#add-to-cart, #buy-now").forEach(function (b) { b.disabled = !yes; });
  }
  function update() {
    var options = picked();
    markChips(options);
    var v = variantFor(options);
    if (!v) { buyable(false, ""); return; }
    price.textContent = v.price;
    var url = new URL(window.location.href);
    url.searchParams.set("variant", v.id);
    Array.from(url.searchParams.keys()).forEach(function (k) { if (k.indexOf("opt_") === 0) { url.searchParams.delete(k); } });
    history.replaceState(null, "", url.pathname + "?" + url.searchParams.toString());
    var p = new URLSearchParams({
      lat: cfg.center.lat, lng: cfg.center.lng, radius_m: cfg.radius, variant_id: v.id, limit: cfg.limit
    });
    var mine = ++seq;
    list.setAttribute("aria-busy", "true");
    fetch(cfg.api + "?" + p.toString(), { headers: { Accept: "application/json" } })
      .then(function (r) { if (!r.ok) { throw new Error(String(r.status)); } return r.json(); })
      .then(function (body) {
        if (mine !== seq) { return; }
        var picked = (list.querySelector(".pick-store input:checked") || {}).value;
        list.replaceChildren.apply(list, body.items.map(row));
        empty.hidden = body.items.length > 0;
        var again = list.querySelector('.pick-store input[value="' + picked + '"]') ||
          list.querySelector(".pick-store input");
        if (again) { again.checked = true; }
        buyable(body.items.length > 0, v.id);
        list.dataset.variant = v.id;
      })
      .catch(function () { if (mine === seq) { empty.textContent = text.error; empty.hidden = false; } })
      .finally(function () { if (mine === seq) { list.setAttribute("aria-busy", "false"); } });
  }
  function live() {
    // Stock changes anywhere (a till sale, an online order, a count) arrive as they happen.
    var id = (window.location.pathname.match(/\/products\/(\d+)/) || [])[1];
    if (!id || !window.EventSource) { return; }
    var source = new EventSource("/api/v1/products/" + id + "/stock/stream");
    source.addEventListener("stock", function (event) {
      var m = JSON.parse(event.data);
      if (String(m.variant_id) !== list.dataset.variant) { return; }
      var li = list.querySelector('li[data-store="' + m.store_id + '"]');
      if (!li) { return; }
      if (m.available <= 0) {
        var wasPicked = li.querySelector(".pick-store input:checked");
        li.remove();
        empty.hidden = list.children.length > 0;
        var first = list.querySelector(".pick-store input");
        if (wasPicked && first) { first.checked = true; }
        buyable(list.children.length > 0, list.dataset.variant);
        return;
      }
      var left = li.querySelector(".left");
      left.textContent = fmt(text.left, { num: m.available });
      left.dataset.qty = m.available;
      left.classList.toggle("few", m.available <= 3);
      li.classList.add("just-changed");
      setTimeout(function () { li.classList.remove("just-changed"); }, 1500);
    });
    window.addEventListener("pagehide", function () { source.close(); });
  }
  form.addEventListener("change", update);
  live();
  markChips(picked());
  list.dataset.variant = (variantFor(picked()) || {}).id || "";
  document.body.dataset.productReady = "1";
})();
