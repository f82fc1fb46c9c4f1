/* The counter: the code field keeps the focus (a hardware scanner types and presses Enter),
   the camera reads QR codes with qr-scanner, and each result is announced with a tone. */
(function () {
  "use strict";
  var form = document.getElementById("counter-form");
  if (!form) return;
  var input = document.getElementById("code");
  var scanButton = document.getElementById("scan");
  var problem = document.getElementById("scan-problem");
  var panel = document.getElementById("scanner");
  var video = document.getElementById("scan-video");
  var scanner = null;

  function refocus() { input.focus(); input.select(); }

  form.addEventListener("submit", function (e) {
    if (!input.value.trim()) { e.preventDefault(); refocus(); }
  });
  document.body.addEventListener("htmx:afterRequest", function (e) {
    if (e.target !== form) return;
    var ok = e.detail.xhr && e.detail.xhr.status === 200;
    if (window.o2oChime) (ok ? window.o2oChime.ok : window.o2oChime.error)();
    input.value = "";
    refocus();
  });

  function stop() {
    if (scanner) { scanner.stop(); scanner.destroy(); scanner = null; }
    panel.hidden = true;
    refocus();
  }
  function cannot() {
    problem.textContent = form.dataset.tNoCamera;
    problem.hidden = false;
    refocus();
  }
  scanButton.addEventListener("click", function () {
    problem.hidden = true;
    if (!window.QrScanner || !navigator.mediaDevices) { cannot(); return; }
    if (window.o2oChime) window.o2oChime.unlock();
    panel.hidden = false;
    scanner = new window.QrScanner(video, function (result) {
      input.value = result.data;
      stop();
      form.requestSubmit();
    }, { returnDetailedScanResult: true, highlightScanRegion: true, preferredCamera: "environment" });
    scanner.start().catch(function () { stop(); cannot(); });
  });
  document.getElementById("scan-stop").addEventListener("click", stop);
  refocus();
})();
