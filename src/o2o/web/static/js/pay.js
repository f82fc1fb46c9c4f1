/* Pay page: count down to the payment deadline, and become the order page by itself as soon
   as the order is no longer waiting for its payment (the order's live stream says so). */
(function () {
  "use strict";
  var box = document.getElementById("pay");
  if (!box) { return; }
  var orderUrl = "/orders/" + box.dataset.order;
  var left = document.getElementById("countdown-left");
  var deadline = box.dataset.deadline ? Date.parse(box.dataset.deadline) : NaN;

  function tick() {
    if (!left || isNaN(deadline)) { return; }
    var s = Math.max(0, Math.round((deadline - Date.now()) / 1000));
    var m = Math.floor(s / 60), r = s % 60;
    left.textContent = m + ":" + (r < 10 ? "0" : "") + r;
    if (s === 0) {
      document.getElementById("pay-live").hidden = true;
      document.getElementById("pay-over").hidden = false;
      return;
    }
    setTimeout(tick, 1000 - (Date.now() % 1000));
  }
  function listen() {
    if (!window.EventSource) { return; }
    var source = new EventSource(orderUrl + "/events");
    source.addEventListener("order", function (event) {
      var m = JSON.parse(event.data);
      if (m.status && m.status !== "placed") {
        source.close();
        window.location.replace(orderUrl);
      }
    });
    window.addEventListener("pagehide", function () { source.close(); });
  }
  tick();
  listen();
  document.body.dataset.payReady = "1";
})();
