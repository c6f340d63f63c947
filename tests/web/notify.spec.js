// Settings → Notifications: the channels form, the digest hour, the "in this app" channel as
// the open page obeys it, and push on this device. The server under test sends no email (no
// SMTP_URL): the page says so. Headless Chromium cannot subscribe to a push service (it has
// no network to Google's), so the push test checks that the failure is said plainly.
const { test, expect } = require("@playwright/test");
const { startServer } = require("./server");
const { signUp: signUpAt } = require("./signup");

let server;
test.beforeAll(async () => {
  server = await startServer();
});
test.afterAll(async () => {
  if (server) await server.stop();
});

const signUp = (page) => signUpAt(page, server.baseURL, { who: "notify" });

async function channels(page) {
  return page.evaluate(async () => (await fetch("/api/v1/me/notifications")).json());
}

test("the channels and the digest hour are saved from Settings", async ({ page }) => {
  await signUp(page);
  await page.goto(`${server.baseURL}/settings`);
  const section = page.locator("#notifications");
  await expect(section.getByRole("heading", { name: "Notifications" })).toBeVisible();
  const inApp = section.getByLabel(/In this app/);
  const email = section.getByLabel(/By email to/);
  const push = section.getByLabel(/By push/);
  await expect(inApp).toBeChecked();
  await expect(email).toBeChecked();
  await expect(push).toBeChecked();
  await expect(section).toContainText("This server sends no email");
  await expect(section.getByLabel("Daily digest by email")).toHaveValue("");

  await inApp.uncheck();
  await email.uncheck();
  await section.getByLabel("Daily digest by email").selectOption("8");
  await section.getByRole("button", { name: "Save notifications" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Notifications saved" })).toBeVisible();
  await page.reload();
  await expect(page.locator("#notifications").getByLabel(/In this app/)).not.toBeChecked();
  await expect(page.locator("#notifications").getByLabel(/By email to/)).not.toBeChecked();
  await expect(page.locator("#notifications").getByLabel(/By push/)).toBeChecked();
  await expect(page.locator("#notifications").getByLabel("Daily digest by email")).toHaveValue("8");
  expect(await channels(page)).toMatchObject({ in_app: false, email: false, push: true, digest_hour: 8, email_available: false });

  await page.locator("#notifications").getByLabel("Daily digest by email").selectOption("");
  await page.locator("#notifications").getByRole("button", { name: "Save notifications" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Notifications saved" })).toBeVisible();
  expect((await channels(page)).digest_hour).toBeNull();
});

test("with in-app reminders off, the open page shows none", async ({ browser }) => {
  const context = await browser.newContext({ permissions: ["notifications"] });
  const page = await context.newPage();
  await page.addInitScript(() => {
    window.__notifications = [];
    window.Notification = class {
      static permission = "granted";
      static requestPermission() { return Promise.resolve("granted"); }
      constructor(title, options) { window.__notifications.push({ title, body: options && options.body }); }
    };
  });
  await signUp(page);
  const add = (title, at) => page.evaluate(async ({ title, at }) => {
    const csrf = document.querySelector('meta[name="csrf-token"]').content;
    const response = await fetch("/api/v1/tasks", {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify({ title, reminders: [{ remind_at: at }] }),
    });
    return response.json();
  }, { title, at });
  const sent = (id) => page.evaluate(async (id) => {
    const task = await (await fetch(`/api/v1/tasks/${id}`)).json();
    return Boolean(task.reminders[0] && task.reminders[0].sent_at);
  }, id);
  const setInApp = (on) => page.evaluate(async (on) => {
    const csrf = document.querySelector('meta[name="csrf-token"]').content;
    const response = await fetch("/api/v1/me/notifications", {
      method: "PUT",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify({ in_app: on }),
    });
    return response.status;
  }, on);

  expect(await setInApp(false)).toBe(200);
  await page.reload();
  const quiet = await add("Quiet one", new Date(Date.now() + 2000).toISOString());
  await expect.poll(() => sent(quiet.id), { timeout: 30_000 }).toBe(true);
  // The event reaches the page within a moment of being written; give it that moment.
  await page.waitForTimeout(2000);
  expect(await page.evaluate(() => window.__notifications.length)).toBe(0);
  await expect(page.locator("#toast", { hasText: "Quiet one" })).toHaveCount(0);

  // Turned back on (a fresh page reads the setting again), the next one shows.
  expect(await setInApp(true)).toBe(200);
  await page.reload();
  await add("Loud one", new Date(Date.now() + 2000).toISOString());
  await expect.poll(() => page.evaluate(() => window.__notifications.map((n) => n.body)), { timeout: 30_000 }).toContain("Loud one");
  await context.close();
});

test("push on this device says plainly when the browser cannot subscribe", async ({ browser }) => {
  const context = await browser.newContext({ permissions: ["notifications"] });
  const page = await context.newPage();
  await signUp(page);
  await page.goto(`${server.baseURL}/settings`);
  const device = page.locator("#push-device");
  await expect(device).toBeVisible();
  await expect(page.locator("#push-state")).toHaveText("Push is off for this device.", { timeout: 15_000 });
  await page.getByRole("button", { name: "Turn on push on this device" }).click();
  // No push service is reachable from here: the subscription fails and nothing is saved.
  await expect(page.locator("#push-state")).toContainText("could not subscribe", { timeout: 30_000 });
  const saved = await page.evaluate(async () => (await (await fetch("/api/v1/push/subscriptions")).json()));
  expect(saved).toEqual([]);
  await context.close();
});
