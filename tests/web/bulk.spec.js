// Multi-select and bulk actions: rows selected by click, shift-click and `x`; the bar completes
// (the view reads itself once), moves, reschedules and deletes with Undo; a viewer gets no
// select buttons. Also: Done lists completions newest first, and a live refresh keeps the rows
// "Load more" had shown.
const fs = require("node:fs");
const path = require("node:path");
const { test, expect } = require("@playwright/test");
const { startServer } = require("./server");
const { signUp: signUpAt } = require("./signup");

const SHOTS = process.env.SCREENSHOT_DIR || path.join(__dirname, "../../target/screenshots");
fs.mkdirSync(SHOTS, { recursive: true });

let server;
test.beforeAll(async () => { server = await startServer(); });
test.afterAll(async () => { if (server) await server.stop(); });

const signUp = (page, who) => signUpAt(page, server.baseURL, { who });

async function api(page, method, url, body) {
  const csrf = await page.locator("meta[name='csrf-token']").getAttribute("content");
  const response = await page.request.fetch(`${server.baseURL}${url}`, { method, data: body, headers: { "X-CSRF-Token": csrf } });
  expect(response.ok(), `${method} ${url}: ${response.status()}`).toBe(true);
  return response.status() === 204 ? null : response.json();
}

const row = (page, title) => page.locator("#tasks .task", { has: page.locator(".title", { hasText: new RegExp(`^${title}$`) }) });

test("select by click, shift-click and x; complete, move, reschedule, delete with Undo", async ({ page }) => {
  await signUp(page, "bulk");
  const errands = await api(page, "POST", "/api/v1/projects", { name: "Errands" });
  for (let n = 1; n <= 7; n++) await api(page, "POST", "/api/v1/tasks", { title: `Bulk ${n}` });
  await page.goto(`${server.baseURL}/`);
  await expect(page.locator("#count")).toHaveText("7 tasks");
  await expect(page.locator("html")).toHaveAttribute("data-live", "open");
  const liveReads = [];
  page.on("request", (request) => { if (request.headers()["x-live"]) liveReads.push(request.url()); });

  // Click, shift-click for the range, and `x` on the row the keyboard is on.
  await row(page, "Bulk 1").getByRole("button", { name: "Select: Bulk 1" }).click();
  await expect(page.locator("#bulk-bar")).toContainText("1 selected");
  await row(page, "Bulk 2").getByRole("button", { name: "Select: Bulk 2" }).click({ modifiers: ["Shift"] });
  await page.locator("body").press("j");
  await page.keyboard.press("j");
  await page.keyboard.press("j");
  await expect(row(page, "Bulk 3")).toHaveClass(/selected/);
  await page.keyboard.press("x");
  await expect(page.locator("#bulk-bar")).toContainText("3 selected");
  for (const n of [1, 2, 3]) await expect(row(page, `Bulk ${n}`).locator(".pick")).toHaveAttribute("aria-pressed", "true");
  await expect(row(page, "Bulk 4").locator(".pick")).toHaveAttribute("aria-pressed", "false");
  await page.screenshot({ path: path.join(SHOTS, "bulk-desktop.png") });
  await page.setViewportSize({ width: 390, height: 844 });
  await page.screenshot({ path: path.join(SHOTS, "bulk-phone.png") });
  const scrollWidth = await page.evaluate(() => document.documentElement.scrollWidth);
  expect(scrollWidth).toBeLessThanOrEqual(390);
  await page.setViewportSize({ width: 1280, height: 800 });

  // Esc clears; shift-click again from the same anchor rebuilds the range.
  await page.keyboard.press("Escape");
  await expect(page.locator("#bulk-bar")).toBeHidden();
  await row(page, "Bulk 1").locator(".pick").click();
  await row(page, "Bulk 3").locator(".pick").click({ modifiers: ["Shift"] });
  await expect(page.locator("#bulk-bar")).toContainText("3 selected");

  // Complete: the rows leave and the count follows, from one read of the view.
  await page.locator("#bulk-bar").getByRole("button", { name: "Complete" }).click();
  await expect(page.locator("#toast")).toContainText("Completed 3 tasks");
  for (const n of [1, 2, 3]) await expect(row(page, `Bulk ${n}`)).toHaveCount(0);
  await expect(page.locator("#count")).toHaveText("4 tasks");
  await expect(page.locator("#bulk-bar")).toBeHidden();
  expect(liveReads.length).toBeLessThanOrEqual(2);

  // Move two to a project.
  await row(page, "Bulk 4").locator(".pick").click();
  await row(page, "Bulk 5").locator(".pick").click();
  await page.locator("#bulk-move").selectOption({ label: "Errands" });
  await expect(page.locator("#toast")).toContainText("Moved 2 tasks to Errands");
  await expect(page.locator(`#sidebar a[href="/projects/${errands.id}"] .side-count`)).toHaveText("2");

  // Reschedule to tomorrow: under Upcoming's "Tomorrow" heading.
  await row(page, "Bulk 6").locator(".pick").click();
  await row(page, "Bulk 7").locator(".pick").click();
  await page.locator("#bulk-when").selectOption("tomorrow");
  await expect(page.locator("#toast")).toContainText("Rescheduled 2 tasks");
  await page.goto(`${server.baseURL}/?view=upcoming`);
  const heading = page.locator("#tasks .day-head").first();
  await expect(heading).toContainText("Tomorrow");
  const underTomorrow = await page.locator("#tasks > li").evaluateAll((items) => {
    const titles = [];
    let inTomorrow = false;
    for (const li of items) {
      if (li.classList.contains("day-head")) inTomorrow = li.textContent.includes("Tomorrow");
      else if (inTomorrow) titles.push(li.querySelector(".title").textContent);
    }
    return titles.sort();
  });
  expect(underTomorrow).toEqual(["Bulk 6", "Bulk 7"]);

  // Delete with Undo on the project page: the rows go at once and come back.
  await page.goto(`${server.baseURL}/projects/${errands.id}`);
  const projectRow = (title) => page.locator(".task", { has: page.locator(".title", { hasText: title }) });
  await projectRow("Bulk 4").locator(".pick").click();
  await projectRow("Bulk 5").locator(".pick").click({ modifiers: ["Shift"] });
  await expect(page.locator("#bulk-bar")).toContainText("2 selected");
  await page.locator("#bulk-bar").getByRole("button", { name: "Delete" }).click();
  await expect(projectRow("Bulk 4")).toHaveCount(0);
  await expect(projectRow("Bulk 5")).toHaveCount(0);
  await page.locator("#toast").getByRole("button", { name: "Undo" }).click();
  await expect(page.locator("#toast")).toContainText("Restored 2 tasks");
  await expect(projectRow("Bulk 4")).toHaveCount(1);
  await expect(projectRow("Bulk 5")).toHaveCount(1);
  // The delete window (5 s) passes: nothing was sent.
  await page.waitForTimeout(5500);
  await page.reload();
  await expect(projectRow("Bulk 4")).toHaveCount(1);
  await expect(projectRow("Bulk 5")).toHaveCount(1);

  // Delete for real: after the window, gone after a reload too.
  await projectRow("Bulk 4").locator(".pick").click();
  await page.locator("#bulk-bar").getByRole("button", { name: "Delete" }).click();
  await expect(projectRow("Bulk 4")).toHaveCount(0);
  await expect.poll(async () => {
    const tasks = await api(page, "GET", `/api/v1/tasks?project=${errands.id}`);
    return tasks.items ? tasks.items.length : tasks.length;
  }, { timeout: 10_000 }).toBe(1);
});

test("a viewer of a shared project gets no select buttons on its rows", async ({ browser }) => {
  const owner = await (await browser.newContext()).newPage();
  const viewer = await (await browser.newContext()).newPage();
  await signUp(owner, "owner");
  const viewerEmail = await signUp(viewer, "viewer");
  const shared = await api(owner, "POST", "/api/v1/projects", { name: "Family" });
  await api(owner, "POST", "/api/v1/tasks", { title: "Family task", project_id: shared.id });
  await api(owner, "POST", `/api/v1/projects/${shared.id}/invitations`, { email: viewerEmail, role: "viewer" });
  const invitations = await api(viewer, "GET", "/api/v1/invitations");
  const list = invitations.items || invitations;
  await api(viewer, "POST", `/api/v1/invitations/${list[0].id}/accept`);
  await api(viewer, "POST", "/api/v1/tasks", { title: "My own task" });

  await viewer.goto(`${server.baseURL}/`);
  await expect(row(viewer, "Family task")).toHaveAttribute("data-readonly", "");
  await expect(row(viewer, "Family task").locator(".pick")).toHaveCount(0);
  await expect(row(viewer, "My own task").locator(".pick")).toHaveCount(1);
  // `x` on the viewer's row selects nothing.
  await expect(viewer.locator("#tasks .task").first()).toContainText("Family task");
  await viewer.locator("body").press("j");
  await expect(row(viewer, "Family task")).toHaveClass(/selected/);
  await viewer.keyboard.press("x");
  await expect(viewer.locator("#bulk-bar")).toHaveCount(0);
  // The project she only views is not a place to move tasks to.
  await row(viewer, "My own task").locator(".pick").click();
  await expect(viewer.locator("#bulk-move option", { hasText: "Family" })).toHaveCount(0);
  await expect(viewer.locator("#bulk-move option", { hasText: "Inbox" })).toHaveCount(1);
  await viewer.goto(`${server.baseURL}/projects/${shared.id}`);
  await expect(viewer.locator(".task .pick")).toHaveCount(0);
});

test("Done lists the latest completion first", async ({ page }) => {
  await signUp(page, "done");
  await api(page, "POST", "/api/v1/tasks", { title: "Task A" });
  await api(page, "POST", "/api/v1/tasks", { title: "Task B" });
  await page.goto(`${server.baseURL}/`);
  await row(page, "Task A").getByRole("checkbox").click();
  await expect(row(page, "Task A")).toHaveClass(/done/);
  await row(page, "Task B").getByRole("checkbox").click();
  await expect(row(page, "Task B")).toHaveClass(/done/);
  await page.goto(`${server.baseURL}/?view=completed`);
  await expect(page.locator("#tasks .task .title")).toHaveText(["Task B", "Task A"]);
  await expect(page.locator("#f-sort option:checked")).toHaveText("Recently completed");
});

test("a live refresh keeps the rows Load more had shown", async ({ page }) => {
  await signUp(page, "more");
  const tasks = Array.from({ length: 60 }, (_, n) => ({ title: `Row ${String(n).padStart(2, "0")}` }));
  const csrf = await page.locator("meta[name='csrf-token']").getAttribute("content");
  const imported = await page.request.post(`${server.baseURL}/api/v1/import`, { data: { tasks }, headers: { "X-CSRF-Token": csrf } });
  expect(imported.ok()).toBe(true);
  await page.goto(`${server.baseURL}/`);
  await expect(page.locator("html")).toHaveAttribute("data-live", "open");
  await expect(page.locator("#tasks > .task")).toHaveCount(50);
  await page.getByRole("link", { name: "Load more" }).click();
  await expect(page.locator("#tasks > .task")).toHaveCount(60);

  // A change elsewhere (the same user's API call): the view reads itself again.
  await api(page, "POST", "/api/v1/tasks", { title: "Row 60" });
  await expect(page.locator("#count")).toHaveText("61 tasks");
  await expect(page.locator("#tasks > .task")).toHaveCount(60);
  await expect(page.getByRole("link", { name: "Load more" })).toBeVisible();
});

test("a partial failure names the task that failed; Undo reopens what was completed; a picked date", async ({ page }) => {
  // No event stream: the row deleted elsewhere stays on screen, still selected.
  await page.route("**/api/v1/events", (route) => route.abort());
  await signUp(page, "partial");
  const kept = await api(page, "POST", "/api/v1/tasks", { title: "Kept task" });
  const gone = await api(page, "POST", "/api/v1/tasks", { title: "Gone task" });
  await api(page, "POST", "/api/v1/tasks", { title: "Dated task" });
  await page.goto(`${server.baseURL}/`);
  await row(page, "Kept task").locator(".pick").click();
  await row(page, "Gone task").locator(".pick").click();
  await api(page, "DELETE", `/api/v1/tasks/${gone.id}`);
  await page.locator("#bulk-bar").getByRole("button", { name: "Complete" }).click();
  await expect(page.locator("#toast")).toContainText("Completed 1 task; 1 failed (no longer there): “Gone task”");
  await page.locator("#toast").getByRole("button", { name: "Undo" }).click();
  await expect(page.locator("#toast")).toContainText("Undone");
  const task = await api(page, "GET", `/api/v1/tasks/${kept.id}`);
  expect(task.completed).toBe(false);

  // Reschedule to a picked date.
  await page.reload();
  await row(page, "Dated task").locator(".pick").click();
  await page.locator("#bulk-when").selectOption("pick");
  await page.getByLabel("Date", { exact: true }).fill("2031-03-04");
  await expect(page.locator("#toast")).toContainText("Rescheduled 1 task");
  const tasks = await api(page, "GET", "/api/v1/tasks?q=Dated");
  expect((tasks.items || tasks)[0].due_date).toBe("2031-03-04");
});

test("Reschedule's Today and Tomorrow are the account's, not the browser's calendar", async ({ page }) => {
  await signUp(page, "zone");
  // The browser is in Paris; the account is fourteen hours ahead of UTC, so between 10:00 and
  // 23:00 UTC its today is the browser's tomorrow.
  const zone = "Pacific/Kiritimati";
  await api(page, "PATCH", "/api/v1/me", { timezone: zone });
  const task = await api(page, "POST", "/api/v1/tasks", { title: "Far away" });
  const dayThere = (offset) => new Date(Date.now() + offset * 86_400_000).toLocaleDateString("en-CA", { timeZone: zone });
  for (const [choice, offset] of [["today", 0], ["tomorrow", 1]]) {
    await page.goto(`${server.baseURL}/`);
    await row(page, "Far away").getByRole("button", { name: "Select: Far away" }).click();
    await page.locator("#bulk-when").selectOption(choice);
    await expect(page.locator("#toast")).toContainText("Rescheduled");
    const saved = await api(page, "GET", `/api/v1/tasks/${task.id}`);
    expect(saved.due_date, choice).toBe(dayThere(offset));
  }
});
