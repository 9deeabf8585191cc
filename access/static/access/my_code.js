// Keep the entry code on screen current, with or without a network.
//
// The code is SPQ1.<credential>.<30-second window>.<HMAC-SHA256 of "credential.window"
// under the credential's secret, first 24 hex digits> (access/credentials.py). With
// Web Crypto this page makes each window's code itself from the secret the server put
// in the page, so it keeps rotating offline (the service worker keeps a copy of the
// page). Trade-off: the secret now lives on the member's phone, so whoever can read
// the unlocked browser's storage can make codes until the member renews the code
// (which rotates the secret); a screenshot still stops working within about 90 seconds.
// Without Web Crypto it falls back to asking the server for a fresh code.
(function () {
  "use strict";
  var box = document.getElementById("qr-code");
  if (!box) return;
  var data = box.dataset;
  var windowSeconds = parseInt(data.windowSeconds, 10) || 30;
  var behind = parseInt(data.windowsBehind, 10) || 2;
  // The phone's clock may be off: follow the server's, measured when the page was made.
  // A copy of the page from the offline cache is old, so trust the phone's clock then.
  var loadedAt = Date.now();
  var skew = parseInt(data.serverTime, 10) - loadedAt;
  if (!isFinite(skew) || Math.abs(skew) > 5 * 60 * 1000) skew = 0;
  var shown = null;

  function hexToBytes(hex) {
    var out = new Uint8Array(hex.length / 2);
    for (var i = 0; i < out.length; i++) out[i] = parseInt(hex.substr(i * 2, 2), 16);
    return out;
  }
  function toHex(buffer) {
    return Array.prototype.map.call(new Uint8Array(buffer), function (b) {
      return ("0" + b.toString(16)).slice(-2);
    }).join("");
  }
  var timeFormat = new Intl.DateTimeFormat(document.documentElement.lang || undefined, {
    hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false,
  });

  function render(payload, win) {
    var until = new Date((win + behind + 1) * windowSeconds * 1000);
    var figure = document.createElement("figure");
    figure.className = "qr";
    var holder = document.createElement("div");
    holder.setAttribute("role", "img");
    holder.setAttribute("aria-label", data.label);
    holder.innerHTML = window.SpotterQR.svg(payload, 2);
    var caption = document.createElement("figcaption");
    caption.className = "help";
    var time = document.createElement("time");
    time.dateTime = until.toISOString();
    time.textContent = timeFormat.format(until);
    caption.append(data.validUntil + " ", time);
    figure.append(holder, caption);
    box.replaceChildren(figure);
    box.dataset.payload = payload;
  }

  function startLocal(key) {
    function tick() {
      var win = Math.floor((Date.now() + skew) / 1000 / windowSeconds);
      if (win === shown) return;
      shown = win;
      var message = new TextEncoder().encode(data.credential + "." + win);
      crypto.subtle.sign("HMAC", key, message).then(function (signature) {
        render("SPQ1." + data.credential + "." + win + "." + toHex(signature).slice(0, 24), win);
      });
    }
    tick();
    setInterval(tick, 1000);
    document.addEventListener("visibilitychange", function () { if (!document.hidden) tick(); });
  }

  function startRemote() {
    var url = data.refreshUrl;
    function refresh() {
      fetch(url, { credentials: "same-origin", cache: "no-store" })
        .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
        .then(function (html) { box.innerHTML = html; })
        .catch(function () { /* keep the current code; next tick retries */ });
    }
    setInterval(refresh, (parseInt(data.refreshSeconds, 10) || windowSeconds) * 1000);
    document.addEventListener("visibilitychange", function () { if (!document.hidden) refresh(); });
  }

  if (window.crypto && crypto.subtle && window.SpotterQR && data.secret) {
    crypto.subtle.importKey("raw", hexToBytes(data.secret), { name: "HMAC", hash: "SHA-256" },
      false, ["sign"]).then(startLocal, startRemote);
  } else if (window.fetch) {
    startRemote();
  }
})();
