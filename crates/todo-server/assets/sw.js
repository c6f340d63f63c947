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

// Requests the worker never answers skip it altogether where the browser has the static
// routing API: writes (a delete sent with sendBeacon as the page goes must not wait for an
// idle worker to start) and the API (the event stream, reads and changes).
function bypass(event) {
  if (!event.addRoutes) return Promise.resolve();
  const network = (condition) => ({ condition, source: "network" });
  const writes = ["POST", "PUT", "PATCH", "DELETE"].map((requestMethod) => network({ requestMethod }));
  const add = (rules) => { try { return event.addRoutes(rules).catch(() => undefined); } catch (_) { return undefined; } };
  return Promise.all([add(writes), add([network({ urlPattern: "/api/*" })])]);
}

self.addEventListener("install", (event) => {
  event.waitUntil(
    bypass(event).then(() => caches.open(SHELL))
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

// --- Web Push: showing a reminder ---------------------------------------------------------
// The push service delivers `{task_id, title, body}` (JSON, encrypted by the server: the server
// side is another part of the app). The notification names the task and offers two actions
// that call the API as the signed-in user (the session cookie; the CSRF token is read from a
// page, as the page script reads it): "Done" completes the task, "Snooze 1 hour" adds a
// reminder an hour from now. A click elsewhere opens (or focuses) the app at the task.
const SNOOZE_MS = 60 * 60 * 1000;

function pushData(event) {
  if (!event.data) return {};
  try { return event.data.json() || {}; } catch (_) { return { body: event.data.text() }; }
}

self.addEventListener("push", (event) => {
  const data = pushData(event);
  const id = Number.isSafeInteger(data.task_id) ? data.task_id : null;
  const title = typeof data.title === "string" && data.title ? data.title : "todo";
  const options = {
    body: typeof data.body === "string" ? data.body : "",
    icon: `/assets/icon-192.png?v=${VERSION}`,
    badge: `/assets/icon-192.png?v=${VERSION}`,
    tag: id ? `task-${id}` : "todo",
    renotify: true,
    data: { task_id: id },
    actions: id ? [{ action: "done", title: "Done" }, { action: "snooze", title: "Snooze 1 hour" }] : [],
  };
  event.waitUntil(self.registration.showNotification(title, options));
});

// The session's CSRF token, as the pages carry it; null when signed out.
async function csrfToken() {
  const response = await fetch("/settings", { credentials: "same-origin", cache: "no-store" });
  if (!response.ok || response.redirected) return null;
  const match = /<meta name="csrf-token" content="([^"]+)"/.exec(await response.text());
  return match ? match[1] : null;
}

async function callApi(method, url, body, token) {
  return fetch(url, {
    method,
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRF-Token": token },
    body: JSON.stringify(body),
  });
}

// "Done" and "Snooze 1 hour"; true when the API did it.
async function runAction(action, id) {
  const token = await csrfToken();
  if (!token) return false;
  if (action === "done") {
    const response = await callApi("PATCH", `/api/v1/tasks/${id}/complete`, { completed: true }, token);
    return response.ok;
  }
  // Snooze: the reminders not yet sent stay, one more comes an hour from now (reminders are
  // replaced as a whole by PATCH; those already sent are not sent again).
  const task = await fetch(`/api/v1/tasks/${id}`, { credentials: "same-origin" });
  if (!task.ok) return false;
  const { reminders = [] } = await task.json();
  const kept = reminders.filter((r) => !r.sent_at).map((r) => (r.minutes_before != null ? { minutes_before: r.minutes_before } : { remind_at: r.remind_at }));
  kept.push({ remind_at: new Date(Date.now() + SNOOZE_MS).toISOString() });
  const response = await callApi("PATCH", `/api/v1/tasks/${id}`, { reminders: kept }, token);
  return response.ok;
}

async function openTask(id) {
  const url = id ? `/tasks/${id}/edit` : "/";
  const windows = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
  for (const client of windows) {
    if (new URL(client.url).origin !== self.location.origin) continue;
    await client.focus();
    return client.navigate ? client.navigate(url) : client;
  }
  return self.clients.openWindow(url);
}

self.addEventListener("notificationclick", (event) => {
  const { notification } = event;
  const id = notification.data && notification.data.task_id;
  notification.close();
  if (id && (event.action === "done" || event.action === "snooze")) {
    // Signed out or refused: open the task instead, so the person can act on it there.
    event.waitUntil(runAction(event.action, id).catch(() => false).then((ok) => (ok ? undefined : openTask(id))));
    return;
  }
  event.waitUntil(openTask(id));
});
