// todo service worker, served as /sw.js (scope: the whole site) with the assets' hash written
// in below, so every build is a new worker that replaces the old one's caches. See docs/web.md
// (Installable and offline).
//
// - The app shell (stylesheet, script, icons, the offline page) is cached on install.
// - Pages (navigations) go to the network first; a good answer is kept as the last copy of
//   that page, and offline the last copy is shown (or the offline page).
// - Nothing else is cached: the API, fragments and event streams always go to the server.
// - Signing out (POST /logout), or landing on the sign-in page, forgets every kept page.
"use strict";
const VERSION = "__ASSETS_VERSION__";
const SHELL = `todo-shell-${VERSION}`;
const PAGES = `todo-pages-${VERSION}`;
const OFFLINE_URL = "/offline";
const SHELL_URLS = [
  `/assets/app.css?v=${VERSION}`,
  `/assets/app.js?v=${VERSION}`,
  `/assets/icon.svg?v=${VERSION}`,
  `/assets/icon-192.png?v=${VERSION}`,
  OFFLINE_URL,
];
// Pages that name no one and are never kept: signing in and out.
const PUBLIC_PAGES = ["/login", "/signup", "/logout", OFFLINE_URL];

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches.open(SHELL)
      .then((cache) => cache.addAll(SHELL_URLS))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((names) => Promise.all(names
        .filter((name) => name.startsWith("todo-") && name !== SHELL && name !== PAGES)
        .map((name) => caches.delete(name))))
      .then(() => self.clients.claim()),
  );
});

function forgetPages() { return caches.delete(PAGES); }

// A page's own answer is kept when it is the signed-in page itself (not a redirect to
// sign in, not an error).
function keepable(request, response) {
  if (!response || !response.ok || response.redirected || response.type !== "basic") return false;
  const type = response.headers.get("Content-Type") || "";
  if (!type.startsWith("text/html")) return false;
  return !PUBLIC_PAGES.includes(new URL(request.url).pathname);
}

async function page(event) {
  const { request } = event;
  const path = new URL(request.url).pathname;
  try {
    const response = await fetch(request);
    if (keepable(request, response)) {
      const copy = response.clone();
      event.waitUntil(caches.open(PAGES).then((cache) => cache.put(request.url, copy)));
    } else if (response.redirected && new URL(response.url).pathname === "/login") {
      event.waitUntil(forgetPages());
    } else if (path === "/login" || path === "/signup") {
      event.waitUntil(forgetPages());
    }
    return response;
  } catch (err) {
    const pages = await caches.open(PAGES);
    const kept = await pages.match(request.url, { ignoreVary: true });
    if (kept) return kept;
    const offline = await caches.match(OFFLINE_URL);
    if (offline) return offline;
    throw err;
  }
}

async function asset(request) {
  const kept = await caches.match(request);
  if (kept) return kept;
  const response = await fetch(request);
  if (response.ok && new URL(request.url).search.includes(`v=${VERSION}`)) {
    const copy = response.clone();
    caches.open(SHELL).then((cache) => cache.put(request, copy));
  }
  return response;
}

self.addEventListener("fetch", (event) => {
  const { request } = event;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.method === "POST" && url.pathname === "/logout") {
    // Forget the kept pages as the sign-out goes out: the next person on this browser
    // must not see this one's lists offline.
    event.waitUntil(forgetPages());
    return;
  }
  if (request.method !== "GET") return;
  if (request.mode === "navigate") {
    event.respondWith(page(event));
  } else if (url.pathname.startsWith("/assets/")) {
    event.respondWith(asset(request));
  }
});

// The page script asks for the page it shows to be kept again after it changed it (a task
// added or checked off), so the copy shown offline is the last list seen.
self.addEventListener("message", (event) => {
  const data = event.data || {};
  if (data.kind === "keep" && typeof data.url === "string") {
    const url = new URL(data.url, self.location.origin);
    if (url.origin !== self.location.origin) return;
    event.waitUntil(
      fetch(url.href, { credentials: "same-origin", cache: "no-store" })
        .then((response) => {
          if (!keepable(new Request(url.href), response)) return undefined;
          return caches.open(PAGES).then((cache) => cache.put(url.href, response));
        })
        .catch(() => undefined),
    );
  } else if (data.kind === "forget") {
    event.waitUntil(forgetPages());
  }
});
