/* The live order queue: reloads the board when the store's order channel says something
   changed, rings and counts in the tab title when a new order needs an answer. */
(function () {
  "use strict";
  var root = document.getElementById("queue");
  if (!root) return;
  var boardUrl = root.dataset.board;
  var baseTitle = document.title;
  var state = document.getElementById("live-state");
  var announce = document.getElementById("announce");
  var toggle = document.getElementById("sound-toggle");
  var soundOn = localStorage.getItem("o2o-sound") !== "off";
  var seen = waitingIds();
  var pending = false;
  var timer = null;
  var chimes = 0;

  function board() { return document.getElementById("board"); }

  function waitingIds() {
    var ids = {};
    document.querySelectorAll("#board [data-waiting]").forEach(function (el) {
      ids[el.dataset.order] = true;
    });
    return ids;
  }

  /* A clerk typing a reason or holding a menu open must not lose it to a refresh. */
  function busy() {
    var b = board();
    if (!b) return false;
    if (b.querySelector("details[open]")) return true;
    var active = document.activeElement;
    return !!(active && b.contains(active) && active.tagName === "INPUT");
  }

  function refresh() {
    clearTimeout(timer);
    timer = setTimeout(function () {
      if (busy()) { pending = true; return; }
      pending = false;
      htmx.ajax("GET", boardUrl, { target: "#board", swap: "outerHTML" });
    }, 120);
  }

  function showTitle() {
    var b = board();
    var n = b ? parseInt(b.dataset.waiting || "0", 10) : 0;
    document.title = (n > 0 ? "(" + n + ") " : "") + baseTitle;
    if (navigator.setAppBadge) {
      (n > 0 ? navigator.setAppBadge(n) : navigator.clearAppBadge()).catch(function () {});
    }
  }

  function afterBoard() {
    var now = waitingIds();
    var fresh = Object.keys(now).filter(function (id) { return !seen[id]; });
    seen = now;
    showTitle();
    if (!fresh.length) return;
    chimes += 1;
    root.dataset.chimes = String(chimes);
    fresh.forEach(function (id) {
      var card = document.getElementById("order-" + id);
      if (card) card.classList.add("just-arrived");
    });
    announce.textContent = fresh.map(function (id) {
      return root.dataset.tNew.replace("%(id)s", id);
    }).join(". ");
    if (soundOn && window.o2oChime) window.o2oChime.newOrder();
  }

  document.body.addEventListener("htmx:afterSettle", function (e) {
    if (e.target && e.target.id === "board") afterBoard();
  });
  document.addEventListener("toggle", function (e) {
    if (e.target.tagName === "DETAILS" && !e.target.open && pending) refresh();
  }, true);
  document.addEventListener("focusout", function () {
    if (pending) setTimeout(function () { if (pending) refresh(); }, 50);
  });

  function showSound() {
    toggle.setAttribute("aria-pressed", soundOn ? "true" : "false");
    toggle.textContent = soundOn ? root.dataset.tSoundOn : root.dataset.tSoundOff;
  }
  toggle.addEventListener("click", function () {
    soundOn = !soundOn;
    localStorage.setItem("o2o-sound", soundOn ? "on" : "off");
    showSound();
    if (soundOn && window.o2oChime) window.o2oChime.newOrder();
  });
  showSound();
  showTitle();

  var source = null;
  function connect() {
    source = new EventSource(root.dataset.stream);
    source.addEventListener("open", function () {
      state.textContent = root.dataset.tLive;
      state.classList.remove("is-offline");
      refresh(); // catch what happened while we were not listening
    });
    source.addEventListener("order", refresh);
    source.addEventListener("error", function () {
      state.textContent = root.dataset.tOffline;
      state.classList.add("is-offline");
      if (source.readyState === EventSource.CLOSED) setTimeout(connect, 5000);
    });
  }
  connect();
  setInterval(refresh, 60000); // ages stay right, and a lost stream is covered
  window.addEventListener("pagehide", function () { if (source) source.close(); });
})();
