/* Short tones made with the Web Audio API (no sound files). Browsers only let a page play
   sound after the user has touched it, so the first click or key press unlocks it. */
(function () {
  "use strict";
  var ctx = null;
  function context() {
    var Ctx = window.AudioContext || window.webkitAudioContext;
    if (!Ctx) return null;
    if (!ctx) ctx = new Ctx();
    if (ctx.state === "suspended") ctx.resume();
    return ctx;
  }
  function unlock() { context(); }
  document.addEventListener("pointerdown", unlock, { once: true });
  document.addEventListener("keydown", unlock, { once: true });

  /* Play [frequency Hz, seconds] notes one after another. */
  function play(notes, volume) {
    var ac = context();
    if (!ac) return;
    var t = ac.currentTime + 0.02;
    notes.forEach(function (note) {
      var osc = ac.createOscillator();
      var gain = ac.createGain();
      osc.type = "sine";
      osc.frequency.value = note[0];
      gain.gain.setValueAtTime(0.0001, t);
      gain.gain.exponentialRampToValueAtTime(volume || 0.3, t + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, t + note[1]);
      osc.connect(gain).connect(ac.destination);
      osc.start(t);
      osc.stop(t + note[1] + 0.05);
      t += note[1] * 0.8;
    });
  }
  window.o2oChime = {
    newOrder: function () { play([[880, 0.18], [1318.5, 0.32]], 0.35); },
    ok: function () { play([[1046.5, 0.12], [1568, 0.2]], 0.25); },
    error: function () { play([[220, 0.25], [196, 0.35]], 0.3); },
    unlock: unlock,
  };
})();
