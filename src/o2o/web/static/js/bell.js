/* The header bell: shows the unread count, follows the shopper's order news over SSE
   (GET /me/notifications/stream) and says what changed in a short toast. */
(function () {
  "use strict";
  var bell = document.getElementById("bell");
  var badge = document.getElementById("bell-count");
  var toasts = document.getElementById("toasts");
  if (!bell || !badge || !toasts) { return; }
  var text = JSON.parse(document.getElementById("bell-config").textContent).text;
  var unread = 0;

  function show(n) {
    unread = n;
    badge.textContent = n > 99 ? "99+" : String(n);
    badge.hidden = n === 0;
  }
  function toast(message) {
    var item = document.createElement("div");
    item.className = "toast";
    item.textContent = message;
    toasts.appendChild(item);
    setTimeout(function () { item.remove(); }, 6000);
  }

  fetch("/me/notifications/unread", { credentials: "same-origin" })
    .then(function (r) { return r.ok ? r.json() : { unread: 0 }; })
    .then(function (body) { show(body.unread || 0); })
    .catch(function () { /* the bell stays empty offline */ });

  bell.addEventListener("click", function () {
    show(0);
    fetch("/me/notifications/read", {
      method: "POST", credentials: "same-origin", keepalive: true,
      headers: { "X-CSRF-Token": bell.dataset.csrf }
    });
  });

  if (!window.EventSource) { return; }
  var source = new EventSource("/me/notifications/stream");
  source.addEventListener("order", function (e) {
    var news = JSON.parse(e.data);
    var key = news.status === "ready" && news.fulfilment === "pickup" ? "readyPickup" : news.status;
    if (!text[key]) { return; }
    show(unread + 1);
    toast(text[key].replace("%(id)s", String(news.order_id)));
  });
})();
