// Live updates that keep each view right, with two sessions of one user: a change made in
// session B re-reads session A's open view as the server renders it with its filter, so rows
// that stop matching leave, new matching rows come, a burst is a bounded number of reads, and
// the sidebar's counters follow. A dropped stream says so, and the view catches up when it is
// back. Every wait is for a condition, never a fixed sleep.
const { test, expect } = require("@playwright/test");
const { startServer } = require("./server");

let server;
test.beforeAll(async () => { server = await startServer(); });
test.afterAll(async () => { if (server) await server.stop(); });

const password = "correct horse battery";
const row = (page, title) => page.locator(".task", { has: page.locator(".title", { hasText: new RegExp(`^${title}$`) }) });
const sideCount = (page, name) => page.locator("#sidebar .side-link", { has: page.locator(".side-name", { hasText: new RegExp(`^${name}$`) }) }).locator(".side-count");

async function logIn(page, email) {
  await page.goto(`${server.baseURL}/login`);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page).toHaveURL(`${server.baseURL}/`);
}

/** Opens a page and waits until its event stream is connected. */
async function openLive(page, url) {
  await page.goto(`${server.baseURL}${url}`);
  await expect(page.locator("html")).toHaveAttribute("data-live", "open");
}

/** The API as the signed-in session calls it: the cookie and the page's CSRF token. */
function sessionApi(page, method, url, body) {
  return page.evaluate(async ([method, url, body]) => {
    const csrf = document.querySelector('meta[name="csrf-token"]').content;
    const response = await fetch(url, {
      method,
      headers: { "X-CSRF-Token": csrf, "Content-Type": "application/json" },
      body: body ? JSON.stringify(body) : undefined,
    });
    return { status: response.status, body: await response.json().catch(() => null) };
  }, [method, url, body]);
}

test("two sessions of one user: B's changes keep A's views right, a burst is one refresh or a few, counters follow", async ({ browser, request }) => {
  const email = `live${Date.now()}@example.com`;
  const signup = await request.post(`${server.baseURL}/api/v1/auth/signup`, { data: { email, password } });
  expect(signup.ok()).toBeTruthy();
  const auth = { Authorization: `Bearer ${(await signup.json()).token}` };
  const work = await (await request.post(`${server.baseURL}/api/v1/projects`, { headers: auth, data: { name: "Work" } })).json();
  for (const title of ["Call the bank", "Water the plants"]) {
    expect((await request.post(`${server.baseURL}/api/v1/tasks`, { headers: auth, data: { title } })).ok()).toBeTruthy();
  }
  const report = await (await request.post(`${server.baseURL}/api/v1/tasks`, { headers: auth, data: { title: "Write the report", project_id: work.id } })).json();
  expect((await request.post(`${server.baseURL}/api/v1/tasks`, { headers: auth, data: { title: "Plan the offsite", project_id: work.id } })).ok()).toBeTruthy();

  const a = await browser.newContext();
  const b = await browser.newContext();
  const pageA = await a.newPage();
  const pageB = await b.newPage();
  await logIn(pageA, email);
  await logIn(pageB, email);
  const inbox = await pageB.locator("#sidebar .side-link", { hasText: "Inbox" }).getAttribute("href");

  // B completes a task: it leaves A's pending view, and A's counters follow.
  await openLive(pageA, "/");
  await expect(row(pageA, "Call the bank")).toBeVisible();
  await expect(sideCount(pageA, "Inbox")).toHaveText("2");
  await row(pageB, "Call the bank").getByRole("checkbox").click();
  await expect(row(pageB, "Call the bank")).toHaveClass(/done/);
  await expect(row(pageA, "Call the bank")).toHaveCount(0);
  await expect(pageA.locator("#count")).toHaveText("3 tasks");
  await expect(sideCount(pageA, "Inbox")).toHaveText("1");

  // B moves a task to another project: it leaves A's view of Work, and both counts change.
  await openLive(pageA, `/projects/${work.id}`);
  await expect(row(pageA, "Write the report")).toBeVisible();
  const inboxId = Number(inbox.split("/").pop());
  expect((await sessionApi(pageB, "POST", `/api/v1/tasks/${report.id}/move`, { project_id: inboxId })).status).toBe(200);
  await expect(row(pageA, "Write the report")).toHaveCount(0);
  await expect(row(pageA, "Plan the offsite")).toBeVisible();
  await expect(pageA.locator("#count")).toHaveText("1 open task");
  await expect(sideCount(pageA, "Work")).toHaveText("1");
  await expect(sideCount(pageA, "Inbox")).toHaveText("2");

  // B moves a due out of today: the task leaves A's Today.
  const today = new Date().toISOString().slice(0, 10);
  const later = new Date(Date.now() + 3 * 86_400_000).toISOString().slice(0, 10);
  const dentist = await (await request.post(`${server.baseURL}/api/v1/tasks`, { headers: auth, data: { title: "See the dentist", due_date: today } })).json();
  await openLive(pageA, "/?view=today");
  await expect(row(pageA, "See the dentist")).toBeVisible();
  expect((await sessionApi(pageB, "PATCH", `/api/v1/tasks/${dentist.id}`, { due_date: later })).status).toBe(200);
  await expect(row(pageA, "See the dentist")).toHaveCount(0);
  expect((await sessionApi(pageB, "DELETE", `/api/v1/tasks/${dentist.id}`)).status).toBe(204);

  // B adds 20 tasks at once: A's view shows them all after a bounded number of reads.
  await openLive(pageA, "/");
  const refreshes = [];
  pageA.on("request", (r) => { if (r.headers()["x-live"]) refreshes.push(r.url()); });
  const burst = await pageB.evaluate(async () => {
    const csrf = document.querySelector('meta[name="csrf-token"]').content;
    const sent = Array.from({ length: 20 }, (_, i) => fetch("/api/v1/tasks", {
      method: "POST",
      headers: { "X-CSRF-Token": csrf, "Content-Type": "application/json" },
      body: JSON.stringify({ title: `Burst ${i + 1}` }),
    }).then((r) => r.status));
    return Promise.all(sent);
  });
  expect(burst.every((status) => status === 201 || status === 200)).toBeTruthy();
  await expect(pageA.locator(".task .title", { hasText: /^Burst \d+$/ })).toHaveCount(20);
  await expect(pageA.locator("#count")).toHaveText("23 tasks");
  await expect(sideCount(pageA, "Inbox")).toHaveText("22");
  expect(refreshes.length).toBeGreaterThan(0);
  expect(refreshes.length, "reads of the view for a burst of 20 changes").toBeLessThanOrEqual(5);
  // Our own check-off stays in place (struck through, with its Undo) instead of vanishing.
  await row(pageA, "Burst 1").getByRole("checkbox").click();
  await expect(row(pageA, "Burst 1")).toHaveClass(/done/);
  await expect(pageA.locator("#toast").getByRole("button", { name: "Undo" })).toBeVisible();

  await a.close();
  await b.close();
});

test("a view whose event stream dropped says so and catches up when the stream is back", async ({ browser, request }) => {
  const email = `stale${Date.now()}@example.com`;
  const signup = await request.post(`${server.baseURL}/api/v1/auth/signup`, { data: { email, password } });
  const auth = { Authorization: `Bearer ${(await signup.json()).token}` };
  const context = await browser.newContext();
  const page = await context.newPage();
  await logIn(page, email);
  // The first stream the page opens ends at once (a dropped connection); the browser's
  // reconnection waits at the gate until the test has seen the note and made a change.
  let release;
  const gate = new Promise((resolve) => { release = resolve; });
  let streams = 0;
  await page.route("**/api/v1/events", async (route) => {
    streams += 1;
    if (streams === 1) {
      await route.fulfill({ status: 200, headers: { "Content-Type": "text/event-stream", "Cache-Control": "no-cache" }, body: "retry: 200\n\n" });
      return;
    }
    await gate;
    await route.continue();
  });
  await page.goto(`${server.baseURL}/`);
  await expect(page.locator("#stale")).toContainText("may be out of date");
  await expect(page.locator("#stale").getByRole("button", { name: "Refresh" })).toBeVisible();
  expect((await request.post(`${server.baseURL}/api/v1/tasks`, { headers: auth, data: { title: "Made while away" } })).ok()).toBeTruthy();
  release();
  // Back: the stream reconnects on its own, the view reads what it missed, the note goes.
  await expect(row(page, "Made while away")).toBeVisible();
  await expect(page.locator("#stale")).toHaveCount(0);
  await expect(page.locator("html")).toHaveAttribute("data-live", "open");
  await context.close();
});
