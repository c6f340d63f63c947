// Rate limits as a browser meets them. At the defaults (100 reads and 30 writes a minute), the
// web app's own loads stay within its cookie budget: 35 view switches and the live refreshes after a bulk
// change of 120 tasks, with no 429 at all. With tiny limits, a page load over the
// limit is a page in the app's style that loads itself again (never a JSON body), and a change
// over the limit is a toast that says to slow down, keeping what was typed.
const fs = require("node:fs");
const path = require("node:path");
const { test, expect } = require("@playwright/test");
const { startServer } = require("./server");

const SHOTS = process.env.SCREENSHOT_DIR || path.join(__dirname, "../../target/screenshots");
fs.mkdirSync(SHOTS, { recursive: true });
const password = "correct horse battery";

async function logIn(page, baseURL, email) {
  await page.goto(`${baseURL}/login`);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page).toHaveURL(`${baseURL}/`);
}

test("at the default limits, view switches and a bulk change's row refreshes never get a 429", async ({ page, request }) => {
  const server = await startServer();
  try {
    const email = `limits${Date.now()}@example.com`;
    const signup = await request.post(`${server.baseURL}/api/v1/auth/signup`, { data: { email, password } });
    const { token } = await signup.json();
    const auth = { Authorization: `Bearer ${token}` };
    const tasks = Array.from({ length: 120 }, (_, i) => ({ id: i + 1, title: `Chore ${i + 1}` }));
    expect((await request.post(`${server.baseURL}/api/v1/import`, { headers: auth, data: { tasks } })).status()).toBe(200);

    const limited = [];
    page.on("response", (r) => { if (r.status() === 429) limited.push(r.url()); });
    await logIn(page, server.baseURL, email);
    const views = ["/", "/?view=today", "/?view=upcoming", "/?view=completed", "/settings"];
    for (let n = 0; n < 35; n++) {
      await page.goto(`${server.baseURL}${views[n % views.length]}`);
      await expect(page.getByRole("link", { name: "Settings" }).first()).toBeVisible();
    }

    // A bulk change from elsewhere: every one of the 120 events makes the open list fetch a row.
    await page.goto(`${server.baseURL}/?view=all`);
    await expect(page.locator(".tasks .task")).toHaveCount(50);
    await page.waitForTimeout(300); // the event stream connects
    const listing = await request.get(`${server.baseURL}/api/v1/tasks?limit=500`, { headers: auth });
    const ids = (await listing.json()).map((t) => t.id);
    const bulk = await request.post(`${server.baseURL}/api/v1/tasks/bulk`, { headers: auth, data: { action: "complete", ids } });
    expect(bulk.status()).toBe(200);
    await expect(page.locator(".tasks .task:not(.done)")).toHaveCount(0, { timeout: 20_000 });
    expect(limited).toEqual([]);
  } finally {
    await server.stop();
  }
});

test("over a limit, the browser shows a page or a toast in the app's style, never JSON", async ({ page }) => {
  const server = await startServer({ RATE_LIMIT_READS: "2", RATE_LIMIT_WRITES: "2" });
  try {
    await page.goto(`${server.baseURL}/signup`);
    await page.getByLabel("Email").fill(`tight${Date.now()}@example.com`);
    await page.getByLabel("Password").fill(password);
    await page.getByRole("button", { name: "Sign up" }).click();
    await expect(page).toHaveURL(`${server.baseURL}/`);

    // Twenty page loads a minute with a read limit of two: the next is the limit's page.
    let status = 200;
    for (let n = 0; n < 30 && status !== 429; n++) {
      const response = await page.goto(`${server.baseURL}/?view=today`);
      status = response.status();
    }
    expect(status).toBe(429);
    await expect(page.getByRole("heading", { level: 1 })).toHaveText("Slow down a moment");
    await expect(page.locator("body")).not.toContainText("urn:todo:problem");
    await expect(page.locator("body")).toContainText("This page loads again in");
    await page.screenshot({ path: path.join(SHOTS, "limited-desktop.png") });
    // It loads itself again when allowed.
    await expect(page.getByRole("heading", { level: 1 })).toHaveText("Today", { timeout: 15_000 });

    // Two changes a minute: the third is a toast, and the typed text is kept.
    for (const text of ["Buy milk", "Call mom"]) {
      await page.getByLabel("New task").fill(text);
      await page.getByLabel("New task").press("Enter");
      await expect(page.locator("#toast")).toContainText("Added");
    }
    await page.getByLabel("New task").fill("Water the plants");
    await page.getByLabel("New task").press("Enter");
    await expect(page.locator("#toast")).toContainText("Slow down: too many requests in a minute. Try again in");
    await expect(page.getByLabel("New task")).toHaveValue("Water the plants");
  } finally {
    await server.stop();
  }
});

test("a live refresh refused by a limit says so once and catches up: the list does not stay stale", async ({ page, request }) => {
  const server = await startServer({ RATE_LIMIT_READS: "10" });
  try {
    const email = `stale${Date.now()}@example.com`;
    const signup = await request.post(`${server.baseURL}/api/v1/auth/signup`, { data: { email, password } });
    const { token } = await signup.json();
    const auth = { Authorization: `Bearer ${token}` };
    const tasks = Array.from({ length: 130 }, (_, i) => ({ id: i + 1, title: `Errand ${i + 1}` }));
    expect((await request.post(`${server.baseURL}/api/v1/import`, { headers: auth, data: { tasks } })).status()).toBe(200);
    await logIn(page, server.baseURL, email);
    // Newest first: the rows on screen are the last 50 of the 130 completed.
    await page.goto(`${server.baseURL}/?view=all&sort=-created_at`);
    await expect(page.locator(".tasks .task")).toHaveCount(50);
    await page.waitForTimeout(300); // the event stream connects
    const listing = await request.get(`${server.baseURL}/api/v1/tasks?limit=500&sort=created_at`, { headers: auth });
    const ids = (await listing.json()).map((t) => t.id);
    // The web budget (100 a minute here) kept spent by this page's own reads until the view's
    // refresh after the bulk change has been refused and said so.
    await page.evaluate(async () => {
      window.burning = true;
      const burn = () => fetch("/tasks/1/row", { headers: { "X-Fragment": "1" } }).then((r) => r.status);
      while ((await burn()) !== 429) { /* spend */ }
      (async () => { while (window.burning) await burn(); })();
    });
    expect((await request.post(`${server.baseURL}/api/v1/tasks/bulk`, { headers: auth, data: { action: "complete", ids } })).status()).toBe(200);
    await expect(page.locator("#toast")).toContainText("Many changes at once: the list catches up in", { timeout: 10_000 });
    await page.evaluate(() => { window.burning = false; });
    await expect(page.locator(".tasks .task:not(.done)")).toHaveCount(0, { timeout: 45_000 });
  } finally {
    await server.stop();
  }
});
