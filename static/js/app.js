// The portal's shared behaviour: offline support (service worker), the install
// prompt, the push-subscription hook, stacked tables on phones and small niceties.
// Every page works without it.
(function () {
  "use strict";
  var body = document.body;

  // Tables become stacked cards on a phone (CSS); each cell needs its column's name.
  document.querySelectorAll("table").forEach(function (table) {
    var heads = Array.prototype.map.call(table.querySelectorAll("thead th"), function (th) {
      return th.textContent.trim();
    });
    if (!heads.length) return;
    table.querySelectorAll("tbody tr").forEach(function (row) {
      Array.prototype.forEach.call(row.children, function (cell, i) {
        if (heads[i] && !cell.hasAttribute("data-label") && !cell.hasAttribute("colspan")) {
          cell.setAttribute("data-label", heads[i]);
        }
      });
    });
  });

  // The language menu switches as soon as a language is chosen.
  document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
    var button = select.form.querySelector(".lang-submit");
    if (button) button.hidden = true;
    select.addEventListener("change", function () { select.form.submit(); });
  });

  // "More" opens the navigation sheet; Escape closes it.
  var nav = document.getElementById("site-nav");
  document.querySelectorAll("[data-more]").forEach(function (more) {
    more.setAttribute("aria-controls", "site-nav");
    more.setAttribute("aria-expanded", "false");
    more.addEventListener("click", function (event) {
      event.preventDefault();
      var open = !nav.classList.contains("open");
      nav.classList.toggle("open", open);
      more.setAttribute("aria-expanded", String(open));
      if (open) { var first = nav.querySelector("ul a"); if (first) first.focus(); }
    });
  });
  if (nav) {
    nav.querySelectorAll(".nav-close a").forEach(function (close) {
      close.addEventListener("click", function (event) {
        event.preventDefault();
        nav.classList.remove("open");
      });
    });
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape") nav.classList.remove("open");
    });
  }

  // Online / offline: pages can show a notice (the entry code keeps working).
  function markConnection() { body.classList.toggle("is-offline", !navigator.onLine); }
  window.addEventListener("online", markConnection);
  window.addEventListener("offline", markConnection);
  markConnection();

  // The service worker lives at the site root so its scope covers every page.
  if ("serviceWorker" in navigator && body.dataset.sw) {
    navigator.serviceWorker.register(body.dataset.sw, { scope: "/" }).catch(function () {});
    // Signing out clears what the worker kept of this person's pages.
    document.querySelectorAll("form[action*='/accounts/logout/']").forEach(function (form) {
      form.addEventListener("submit", function () {
        if (navigator.serviceWorker.controller) {
          navigator.serviceWorker.controller.postMessage({ type: "sign-out" });
        }
      });
    });
  }

  // The install prompt: Chromium-based browsers offer beforeinstallprompt; we show our
  // own banner once, and remember "Not now".
  var banner = document.getElementById("install-banner");
  var deferred = null;
  var DISMISSED = "spotter-install-dismissed";
  window.addEventListener("beforeinstallprompt", function (event) {
    event.preventDefault();
    deferred = event;
    if (banner && !localStorage.getItem(DISMISSED)) banner.hidden = false;
  });
  if (banner) {
    document.getElementById("install-accept").addEventListener("click", function () {
      banner.hidden = true;
      if (deferred) { deferred.prompt(); deferred = null; }
    });
    document.getElementById("install-dismiss").addEventListener("click", function () {
      banner.hidden = true;
      localStorage.setItem(DISMISSED, "1");
    });
  }
  window.addEventListener("appinstalled", function () { if (banner) banner.hidden = true; });

  // Push notifications: subscribe() asks permission and returns the browser's
  // PushSubscription as JSON, ready to POST to a server endpoint (the notifications
  // work wires that up). ``vapidPublicKey`` is the server's application server key,
  // base64url-encoded.
  function urlBase64ToBytes(text) {
    var padded = (text + "===".slice((text.length + 3) % 4)).replace(/-/g, "+").replace(/_/g, "/");
    var raw = atob(padded);
    var bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
    return bytes;
  }
  function subscribe(vapidPublicKey) {
    if (!("serviceWorker" in navigator) || !("PushManager" in window)) {
      return Promise.reject(new Error("push-unsupported"));
    }
    return Notification.requestPermission().then(function (permission) {
      if (permission !== "granted") throw new Error("push-denied");
      return navigator.serviceWorker.ready;
    }).then(function (registration) {
      return registration.pushManager.getSubscription().then(function (existing) {
        return existing || registration.pushManager.subscribe({
          userVisibleOnly: true,
          applicationServerKey: urlBase64ToBytes(vapidPublicKey),
        });
      });
    }).then(function (subscription) { return subscription.toJSON(); });
  }
  window.Spotter = window.Spotter || {};
  window.Spotter.subscribe = subscribe;
})();
