// Spotter's service worker (rendered by accounts.pwa.service_worker).
// - The static files are precached, so the app opens offline.
// - The member's entry code, bookings, schedule and home are network-first: the live
//   page when there is signal, the last copy when there is none. The entry-code page
//   then makes fresh codes itself (static/js/qrcode.js and access/my_code.js).
// - Signing out drops the copies of this person's pages.
// - push / notificationclick are the hook the notifications work sends through.
"use strict";
const VERSION = "{{ version }}";
const STATIC_CACHE = "spotter-static-" + VERSION;
const PAGE_CACHE = "spotter-pages-" + VERSION;
const PRECACHE = {{ precache|safe }};
const OFFLINE_PAGES = {{ offline_pages|safe }};
const LOGOUT_URL = {{ logout_url|safe }};
// The gym's colours, icons and manifest: kept so an offline page still looks like the gym.
const BRAND_FILES = ["/brand.css", "/app-icon-", "/manifest.webmanifest"];

self.addEventListener("install", (event) => {
  event.waitUntil((async () => {
    const statics = await caches.open(STATIC_CACHE);
    await statics.addAll(PRECACHE);
    const pages = await caches.open(PAGE_CACHE);
    // Signed-in pages: kept only when they answer as themselves (not a sign-in redirect).
    await Promise.all(OFFLINE_PAGES.map(async (path) => {
      try {
        const response = await fetch(path, { credentials: "same-origin" });
        if (response.ok && !response.redirected) await pages.put(path, response);
      } catch (error) { /* offline while installing: the next visit fills it */ }
    }));
    await self.skipWaiting();
  })());
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    const keep = new Set([STATIC_CACHE, PAGE_CACHE]);
    for (const name of await caches.keys()) {
      if (name.startsWith("spotter-") && !keep.has(name)) await caches.delete(name);
    }
    await self.clients.claim();
  })());
});

function isOfflinePage(url) {
  return OFFLINE_PAGES.includes(url.pathname);
}

async function clearPages() {
  await caches.delete(PAGE_CACHE);
}

async function networkFirst(request) {
  const cache = await caches.open(PAGE_CACHE);
  try {
    const response = await fetch(request);
    if (response.ok && !response.redirected) {
      await cache.put(request, response.clone());
      // The bare path too, so a link with another query still finds a copy offline.
      await cache.put(new URL(request.url).pathname, response.clone());
    }
    return response;
  } catch (error) {
    const cached = (await cache.match(request)) ||
      (await cache.match(new URL(request.url).pathname));
    if (cached) return cached;
    throw error;
  }
}

async function cacheFirst(request) {
  const cache = await caches.open(STATIC_CACHE);
  const cached = await cache.match(request);
  if (cached) return cached;
  const response = await fetch(request);
  if (response.ok) await cache.put(request, response.clone());
  return response;
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.method === "POST" && url.pathname === LOGOUT_URL) {
    event.waitUntil(clearPages());
    return;
  }
  if (request.method !== "GET") return;
  if (url.pathname.startsWith("/static/")) {
    event.respondWith(cacheFirst(request));
  } else if (BRAND_FILES.some((prefix) => url.pathname.startsWith(prefix))) {
    event.respondWith(networkFirst(request));
  } else if (request.mode === "navigate" && isOfflinePage(url)) {
    event.respondWith(networkFirst(request));
  }
});

self.addEventListener("message", (event) => {
  if (event.data && event.data.type === "sign-out") event.waitUntil(clearPages());
});

// Push: the payload is JSON {title, body, url, tag}; anything else shows as text.
self.addEventListener("push", (event) => {
  let data = {};
  try { data = event.data ? event.data.json() : {}; } catch (error) {
    data = { body: event.data ? event.data.text() : "" };
  }
  const title = data.title || self.registration.scope;
  event.waitUntil(self.registration.showNotification(title, {
    body: data.body || "",
    tag: data.tag || undefined,
    icon: "/app-icon-192.png",
    badge: "/app-icon-192.png",
    data: { url: data.url || "/portal/" },
  }));
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const target = new URL((event.notification.data && event.notification.data.url) || "/portal/", self.location.origin).href;
  event.waitUntil((async () => {
    const windows = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
    for (const client of windows) {
      if (client.url === target && "focus" in client) return client.focus();
    }
    return self.clients.openWindow(target);
  })());
});
