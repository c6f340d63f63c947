// The installable, offline-tolerant web app (docs/web.md, "Installable and offline"): the
// manifest and its icons, the service worker taking control, the last list shown with the
// network cut, quick adds and check-offs queued offline and each saved once when the network
// returns, and a queued add the server refuses said plainly with its text kept.
const { test, expect } = require("@playwright/test");
const { startServer } = require("./server");
const { signUp: signUpAt } = require("./signup");

let server;
test.beforeAll(async () => { server = await startServer(); });
test.afterAll(async () => { if (server) await server.stop(); });

const signUp = (page, base, who) => signUpAt(page, base, { who });

// The API as this page's session (the request context shares its cookies; setOffline does
// not touch it, so it reads the server while the page is cut off).
async function api(page, method, url, data) {
  const csrf = await page.locator("meta[name='csrf-token']").getAttribute("content");
  const response = await page.request.fetch(`${server.baseURL}${url}`, { method, data, headers: { "X-CSRF-Token": csrf } });
  expect(response.ok(), `${method} ${url}: ${response.status()}`).toBeTruthy();
  return response.status() === 204 ? null : response.json();
}

async function tasksTitled(page, title) {
  const page1 = await api(page, "GET", `/api/v1/tasks?limit=200`);
  return (Array.isArray(page1) ? page1 : page1.items).filter((t) => t.title === title);
}

// Signed up, on the list, with the service worker installed and in control of the page.
async function controlledPage(browser, who) {
  const context = await browser.newContext();
  const page = await context.newPage();
  await signUp(page, server.baseURL, who);
  await page.evaluate(() => navigator.serviceWorker.ready);
  await page.reload();
  await expect.poll(() => page.evaluate(() => Boolean(navigator.serviceWorker.controller))).toBe(true);
  return { context, page };
}

function pngSize(buffer) {
  expect(buffer.subarray(1, 4).toString()).toBe("PNG");
  return [buffer.readUInt32BE(16), buffer.readUInt32BE(20)];
}

test("the manifest is valid JSON with what installing needs, and its icons load at their sizes", async ({ page, request }) => {
  await signUp(page, server.baseURL, "manifest");
  const href = await page.locator("link[rel=manifest]").getAttribute("href");
  expect(href).toBe("/manifest.webmanifest");
  const response = await request.get(`${server.baseURL}${href}`);
  expect(response.ok()).toBeTruthy();
  expect(response.headers()["content-type"]).toBe("application/manifest+json");
  const manifest = JSON.parse(await response.text());
  expect(manifest.name).toBe("todo");
  expect(manifest.short_name).toBeTruthy();
  expect(manifest.start_url).toBe("/");
  expect(manifest.display).toBe("standalone");
  expect(manifest.theme_color).toMatch(/^#[0-9a-f]{6}$/);
  expect(manifest.background_color).toMatch(/^#[0-9a-f]{6}$/);
  const pngs = manifest.icons.filter((icon) => icon.type === "image/png");
  expect(pngs.map((i) => i.sizes).sort()).toEqual(["192x192", "512x512", "512x512"]);
  expect(pngs.some((i) => i.purpose === "maskable")).toBe(true);
  for (const icon of pngs) {
    const image = await request.get(new URL(icon.src, server.baseURL).href);
    expect(image.ok(), icon.src).toBeTruthy();
    expect(image.headers()["content-type"]).toBe("image/png");
    const [width, height] = pngSize(await image.body());
    expect(`${width}x${height}`).toBe(icon.sizes);
  }
  // The browser itself reads the same manifest (it is linked and allowed by the page's CSP).
  const theme = await page.locator("meta[name=theme-color]").first().getAttribute("content");
  expect(theme).toBe(manifest.theme_color);
});

test("the service worker registers and controls the page after a reload", async ({ browser }) => {
  const { context, page } = await controlledPage(browser, "worker");
  try {
    const scope = await page.evaluate(async () => (await navigator.serviceWorker.getRegistration()).scope);
    expect(scope).toBe(`${server.baseURL}/`);
    const script = await page.evaluate(() => navigator.serviceWorker.controller.scriptURL);
    expect(script).toBe(`${server.baseURL}/sw.js`);
    // The API skips the worker by its static route (Chromium's routing API), pages do not.
    await page.evaluate(async () => {
      await (await fetch("/api/v1/me")).text();
      await (await fetch("/health")).text();
    });
    await expect.poll(() => page.evaluate(() => ["/api/v1/me", "/health"].map((path) => {
      const entry = performance.getEntriesByType("resource").find((e) => new URL(e.name).pathname === path);
      return entry ? entry.workerMatchedSourceType : null;
    }))).toEqual(["network", ""]);
  } finally {
    await context.close();
  }
});

test("with the network cut, a reload shows the app shell and the last list seen", async ({ browser }) => {
  const { context, page } = await controlledPage(browser, "shell");
  try {
    const quick = page.locator("#quick");
    await quick.fill("Water the plants");
    await quick.press("Enter");
    await expect(page.locator("#tasks .task .title", { hasText: "Water the plants" })).toBeVisible();
    // The list with the new task is kept again by the worker (after the change).
    await expect.poll(() => page.evaluate(async () => {
      const names = await caches.keys();
      for (const name of names.filter((n) => n.startsWith("todo-pages-"))) {
        const kept = await (await caches.open(name)).match(location.href);
        if (kept && (await kept.text()).includes("Water the plants")) return true;
      }
      return false;
    })).toBe(true);

    await context.setOffline(true);
    // Made on the server while this page is cut off: a page read from the network would show
    // it, the kept copy does not.
    await api(page, "POST", "/api/v1/tasks", { title: "Added elsewhere meanwhile" });
    await page.reload();
    await expect(page.locator("header.top .brand")).toBeVisible();
    await expect(page.locator("#tasks .task .title", { hasText: "Water the plants" })).toBeVisible();
    await expect(page.locator("#tasks .task .title", { hasText: "Added elsewhere meanwhile" })).toHaveCount(0);
    // The stylesheet came from the shell cache: the page is styled.
    const styled = await page.evaluate(() => getComputedStyle(document.querySelector("header.top")).display);
    expect(styled).toBe("flex");
    await expect(page.locator("#offline")).toHaveText("Offline — retrying…");

    // A page never opened here: the offline page.
    await page.goto(`${server.baseURL}/settings/tags`).catch(() => {});
    await expect(page.locator("#offline-page")).toBeVisible();
  } finally {
    await context.close();
  }
});

test("a quick add and a check-off made offline show as pending and are each saved once when the network returns", async ({ browser }) => {
  const { context, page } = await controlledPage(browser, "queue");
  try {
    const made = await api(page, "POST", "/api/v1/tasks", { title: "Pay the rent" });
    await page.reload();
    const rent = page.locator(`#task-${made.id}`);
    await expect(rent).toBeVisible();

    await context.setOffline(true);
    const quick = page.locator("#quick");
    await quick.fill("Call the plumber");
    await quick.press("Enter");
    const pendingAdd = page.locator("#tasks .task.pending", { hasText: "Call the plumber" });
    await expect(pendingAdd).toBeVisible();
    await expect(pendingAdd.locator(".pending-badge")).toHaveText("Pending");
    await rent.locator("form.check button").click();
    await expect(rent).toHaveClass(/pending/);
    await expect(rent).toHaveClass(/done/);
    await expect(page.locator("#offline")).toHaveText("Offline — retrying…");
    // Nothing reached the server yet.
    expect(await tasksTitled(page, "Call the plumber")).toHaveLength(0);
    expect((await api(page, "GET", `/api/v1/tasks/${made.id}`)).completed).toBe(false);

    // Kept across a reload while still offline.
    await page.reload();
    await expect(page.locator("#tasks .task.pending", { hasText: "Call the plumber" })).toBeVisible();
    await expect(page.locator(`#task-${made.id}`)).toHaveClass(/pending/);

    await context.setOffline(false);
    await expect(page.locator("#offline")).toHaveCount(0, { timeout: 15_000 });
    await expect(page.locator(".task.pending")).toHaveCount(0);
    await expect(page.locator("#tasks .task:not(.pending) .title", { hasText: "Call the plumber" })).toBeVisible();
    await expect.poll(async () => (await tasksTitled(page, "Call the plumber")).length).toBe(1);
    expect((await api(page, "GET", `/api/v1/tasks/${made.id}`)).completed).toBe(true);
    expect(await page.evaluate(() => localStorage.getItem("todo-offline-queue"))).toBeNull();

    // The same add sent again (an answer lost on the way) is not saved twice.
    const csrf = await page.locator("meta[name='csrf-token']").getAttribute("content");
    const twice = await page.evaluate(async (token) => {
      const send = () => fetch("/tasks", {
        method: "POST",
        headers: { "X-Fragment": "1", "X-CSRF-Token": token, "Content-Type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ text: "Sent twice", client_key: "b7e1c0de-0000-4000-8000-000000000001" }),
      }).then((r) => [r.status, r.headers.get("X-Already-Saved")]);
      return [await send(), await send()];
    }, csrf);
    expect(twice).toEqual([[201, null], [200, "1"]]);
    expect(await tasksTitled(page, "Sent twice")).toHaveLength(1);
  } finally {
    await context.close();
  }
});

test("a queued add the server refuses is said plainly and its text is kept", async ({ browser }) => {
  const { context, page } = await controlledPage(browser, "refused");
  try {
    await context.setOffline(true);
    const tooLong = `Write ${"very ".repeat(45)}long title`;
    const quick = page.locator("#quick");
    await quick.fill(tooLong);
    await quick.press("Enter");
    await expect(page.locator("#tasks .task.pending")).toHaveCount(1);
    await expect(quick).toHaveValue("");

    await context.setOffline(false);
    const error = page.locator("#quick-add").locator("xpath=preceding-sibling::p[contains(@class,'error')][1]");
    await expect(error).toContainText("Not saved", { timeout: 15_000 });
    await expect(error).toContainText("at most");
    await expect(error).toHaveAttribute("role", "alert");
    await expect(quick).toHaveValue(tooLong);
    await expect(page.locator(".task.pending")).toHaveCount(0);
    expect(await tasksTitled(page, tooLong)).toHaveLength(0);
  } finally {
    await context.close();
  }
});

test("signing out forgets the kept pages and the queue", async ({ browser }) => {
  const { context, page } = await controlledPage(browser, "leave");
  try {
    await expect.poll(() => page.evaluate(async () => {
      const name = (await caches.keys()).find((n) => n.startsWith("todo-pages-"));
      return Boolean(name && (await (await caches.open(name)).keys()).length);
    })).toBe(true);
    await page.getByRole("button", { name: "Log out" }).click();
    await expect(page).toHaveURL(/\/login/);
    await expect.poll(() => page.evaluate(async () => {
      let kept = 0;
      for (const name of (await caches.keys()).filter((n) => n.startsWith("todo-pages-"))) {
        kept += (await (await caches.open(name)).keys()).length;
      }
      return kept;
    })).toBe(0);
    await context.setOffline(true);
    await page.goto(`${server.baseURL}/`).catch(() => {});
    await expect(page.locator("#offline-page")).toBeVisible();
  } finally {
    await context.close();
  }
});

// A push message as a push service delivers it, dispatched by Chromium's DevTools protocol to
// the page's worker: the notification names the task and offers "Done" and "Snooze 1 hour".
test("a push message shows the task's notification with Done and Snooze 1 hour", async ({ browser }) => {
  const { context, page } = await controlledPage(browser, "push");
  try {
    await context.grantPermissions(["notifications"], { origin: server.baseURL });
    const made = await api(page, "POST", "/api/v1/tasks", { title: "Take the bins out" });
    const cdp = await context.newCDPSession(page);
    const registered = new Promise((resolve) => {
      cdp.on("ServiceWorker.workerRegistrationUpdated", ({ registrations }) => {
        const mine = registrations.find((r) => r.scopeURL === `${server.baseURL}/` && !r.isDeleted);
        if (mine) resolve(mine.registrationId);
      });
    });
    await cdp.send("ServiceWorker.enable");
    const registrationId = await registered;
    const payload = { task_id: made.id, title: "Take the bins out", body: "Due in 30 minutes" };
    await cdp.send("ServiceWorker.deliverPushMessage", { origin: server.baseURL, registrationId, data: JSON.stringify(payload) });
    await expect.poll(() => page.evaluate(async () => {
      const registration = await navigator.serviceWorker.ready;
      return (await registration.getNotifications()).map((n) => ({
        title: n.title, body: n.body, tag: n.tag, data: n.data, actions: n.actions.map((a) => [a.action, a.title]),
      }));
    })).toEqual([{
      title: "Take the bins out",
      body: "Due in 30 minutes",
      tag: `task-${made.id}`,
      data: { task_id: made.id },
      actions: [["done", "Done"], ["snooze", "Snooze 1 hour"]],
    }]);
  } finally {
    await context.close();
  }
});
