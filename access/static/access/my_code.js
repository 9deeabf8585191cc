// Swap in a fresh entry code every window, so the one on screen is always current.
(function () {
  var box = document.getElementById("qr-code");
  if (!box || !window.fetch) return;
  var url = box.dataset.refreshUrl;
  var seconds = parseInt(box.dataset.refreshSeconds, 10) || 30;
  function refresh() {
    fetch(url, { credentials: "same-origin", cache: "no-store" })
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(function (html) { box.innerHTML = html; })
      .catch(function () { /* keep the current code; next tick retries */ });
  }
  setInterval(refresh, seconds * 1000);
  document.addEventListener("visibilitychange", function () {
    if (!document.hidden) refresh();
  });
})();
