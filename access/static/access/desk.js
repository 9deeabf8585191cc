// Front desk: switching the branch list reloads the desk for that branch (the
// noscript button does it without JavaScript).
(function () {
  var select = document.querySelector("select[data-autosubmit]");
  if (select) select.addEventListener("change", function () { select.form.submit(); });
})();

// Front desk: scan a member's QR code with the camera where the browser can
// (BarcodeDetector); otherwise the text box takes a USB reader or typing.
(function () {
  var button = document.getElementById("scan-button");
  var form = document.getElementById("lookup-form");
  var input = form && form.querySelector("input[name=q]");
  if (!button || !input) return;
  if (!("BarcodeDetector" in window) || !navigator.mediaDevices) {
    // Say so, rather than leave the desk wondering where the camera button went.
    var missing = document.getElementById("scanner-missing");
    if (missing) missing.hidden = false;
    return;
  }
  button.hidden = false;
  var box = document.getElementById("scanner");
  var video = document.getElementById("scanner-video");
  var status = document.getElementById("scanner-status");
  var stream = null;
  function stop() {
    if (stream) stream.getTracks().forEach(function (t) { t.stop(); });
    stream = null;
    box.hidden = true;
  }
  button.addEventListener("click", function () {
    if (stream) { stop(); return; }
    var detector = new window.BarcodeDetector({ formats: ["qr_code"] });
    navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } }).then(function (s) {
      stream = s;
      video.srcObject = s;
      box.hidden = false;
      status.textContent = button.dataset.scanning || "…";
      video.play();
      function tick() {
        if (!stream) return;
        detector.detect(video).then(function (codes) {
          if (codes.length) {
            input.value = codes[0].rawValue;
            stop();
            form.submit();
          } else {
            requestAnimationFrame(tick);
          }
        }).catch(function () { requestAnimationFrame(tick); });
      }
      tick();
    }).catch(function () {
      status.textContent = button.dataset.unavailable;
      box.hidden = false;
    });
  });
})();

// Front desk: who is inside, refreshed every 30 seconds while the page is visible.
(function () {
  var panel = document.getElementById("occupancy");
  if (!panel || !window.fetch) return;
  var url = panel.dataset.refreshUrl;
  function refresh() {
    if (document.hidden) return;
    fetch(url, { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) { if (html !== null) panel.innerHTML = html; })
      .catch(function () {});
  }
  setInterval(refresh, 30000);
  document.addEventListener("visibilitychange", refresh);
})();
