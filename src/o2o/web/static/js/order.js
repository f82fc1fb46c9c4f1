/* Order page: the status, code and timeline follow the order live (its event stream); the
   pickup QR opens full screen on tap; cancelling asks first. */
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
  function refresh() {
    // Fetch this page again and swap in its live part: no reload, no lost scroll position.
    fetch(url, { headers: { Accept: "text/html" }, credentials: "same-origin" })
      .then(function (r) { if (!r.ok) { throw new Error(String(r.status)); } return r.text(); })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html");
        var next = fresh.getElementById("order-live");
        if (!next) { return; }
        live.replaceWith(next);
        live = next;
        var cancel = document.querySelector(".cancel-form");
        if (cancel && !fresh.querySelector(".cancel-form")) { cancel.remove(); }
        wireCode();
      })
      .catch(function () { /* the next event tries again */ });
  }
  function listen() {
    if (!window.EventSource) { return; }
    var source = new EventSource(url + "/events");
    source.addEventListener("order", function (event) {
      var m = JSON.parse(event.data);
      if (m.status && m.status !== live.dataset.status) { refresh(); }
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
  if (!live.dataset.final) { listen(); }
  document.body.dataset.orderReady = "1";
})();
