// Quick add feels alive: a live preview of what the line says while typing (from
// POST /api/v1/tasks/parse, debounced, counted as a read), inline title edits read the same
// way, and a refused save keeps what was typed (edit form, quick add, inline edit). Rate
// limits at their defaults: typing must not trip them.
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
  expect(response.ok(), await response.text()).toBeTruthy();
  return response.status() === 204 ? null : response.json();
}

const row = (page, title) => page.locator("#tasks .task", { has: page.locator(".title", { hasText: title }) });

test("the quick-add preview shows date, project, tags, priority and rule while typing", async ({ page }) => {
  await signUp(page, "preview");
  await api(page, "POST", "/api/v1/projects", { name: "Errands" });
  await page.reload();
  const parses = [];
  page.on("response", (r) => { if (r.url().endsWith("/api/v1/tasks/parse")) parses.push(r.status()); });

  const quick = page.locator("#quick");
  const preview = page.locator(".quick-preview");
  await expect(preview).toHaveAttribute("aria-live", "polite");
  await expect(preview).toBeHidden();
  await quick.pressSequentially("Buy milk tomorrow #Errands p1 every week", { delay: 25 });
  await expect(preview).toBeVisible();
  await expect(preview.locator(".chip-due")).toHaveText("Tomorrow");
  await expect(preview.locator(".chip-project")).toHaveText("▸ Errands");
  await expect(preview.locator(".chip-priority")).toHaveText("p1 urgent");
  await expect(preview.locator(".chip-recur")).toHaveText("↻ every week");
  await expect(preview.locator(".preview-title")).toHaveText("“Buy milk”");
  await quick.pressSequentially(" @shop", { delay: 25 });
  await expect(preview.locator(".chip-tag")).toHaveText("#shop");
  await page.screenshot({ path: path.join(SHOTS, "quickadd-preview-desktop.png") });
  // Debounced: a few previews for ~46 keystrokes, none refused by the limits.
  expect(parses.length).toBeGreaterThan(0);
  expect(parses.length).toBeLessThanOrEqual(8);
  expect(parses.every((s) => s === 200)).toBe(true);

  // A long title typed fast stays within the limits (the preview is a read, not a write).
  await quick.fill("");
  await quick.pressSequentially("Plan the garden for spring with seeds, compost, tools and a new fence around the beds", { delay: 5 });
  await expect(preview).toBeHidden();
  expect(parses.every((s) => s === 200)).toBe(true);
  await quick.fill("Buy milk tomorrow #Errands p1 every week @shop");
  await expect(preview.locator(".chip-tag")).toHaveText("#shop");

  // Enter is never held up; the box and its preview empty, and the task is what was shown.
  await quick.press("Enter");
  await expect(row(page, "Buy milk")).toBeVisible();
  await expect(quick).toHaveValue("");
  await expect(preview).toBeHidden();
  const milk = row(page, "Buy milk");
  await expect(milk.locator(".badge")).toHaveText("urgent");
  await expect(milk.locator("time.due")).toHaveText("Tomorrow");
  await expect(milk.locator(".recur")).toContainText("every week");
  await expect(milk.locator(".tag")).toHaveText("#shop");

  // At 390 px the preview wraps inside the screen.
  await page.setViewportSize({ width: 390, height: 844 });
  await quick.fill("");
  await quick.pressSequentially("Dentist next monday 9am #Errands p2 remind me 30 min before", { delay: 10 });
  await expect(preview.locator(".chip-due")).toContainText("09:00");
  await expect(preview.locator(".chip-remind")).toHaveText("reminder 30 min before");
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - 390);
  expect(overflow).toBeLessThanOrEqual(0);
  await page.screenshot({ path: path.join(SHOTS, "quickadd-preview-phone.png") });
});

test("an inline title edit reads the text as quick add does", async ({ page }) => {
  await signUp(page, "inline");
  const home = await api(page, "POST", "/api/v1/projects", { name: "Home" });
  const task = await api(page, "POST", "/api/v1/tasks", { title: "Call mum", tags: ["family"] });
  await page.reload();
  await row(page, "Call mum").locator(".title").click();
  const input = page.locator(".inline-edit");
  await input.fill("");
  await input.pressSequentially("Call mum tomorrow #Home p1 @phone", { delay: 10 });
  // The same preview shows under the inline editor before saving.
  await expect(page.locator(".task .quick-preview .chip-project")).toHaveText("▸ Home");
  await input.press("Enter");
  await expect(page.getByRole("status").filter({ hasText: "Saved" })).toBeVisible();
  const saved = await api(page, "GET", `/api/v1/tasks/${task.id}`);
  expect(saved.title).toBe("Call mum");
  expect(saved.priority).toBe("urgent");
  expect(saved.project_id).toBe(home.id);
  expect(saved.tags).toEqual(["family", "phone"]);
  expect(saved.due_date).toBeTruthy();
  // The row shows it (it left the Inbox for Home, so look at the project's page).
  await page.goto(`${server.baseURL}/projects/${home.id}`);
  const moved = row(page, "Call mum");
  await expect(moved.locator("time.due")).toHaveText("Tomorrow");
  await expect(moved.locator(".badge")).toHaveText("urgent");
});

test("a refused save keeps what was typed: edit form, quick add, inline edit", async ({ page }) => {
  await signUp(page, "keeps");
  const task = await api(page, "POST", "/api/v1/tasks", { title: "Water plants" });
  await page.reload();

  // The edit form: a 409, a 429 and the network refused in turn; every field stays as typed.
  await page.goto(`${server.baseURL}/tasks/${task.id}/edit?return_to=%2F`);
  await page.getByLabel("Title").fill("Water the plants");
  await page.getByLabel("Notes").fill("Use the rain water");
  await page.getByLabel("Priority").selectOption("high");
  await page.getByLabel("Due date").fill("2031-05-04");
  await page.getByLabel("Tags").fill("garden, home");
  const refusals = [
    { status: 409, body: { type: "urn:todo:problem:conflict", title: "Conflict", status: 409, detail: "the task was changed meanwhile" }, text: "the task was changed meanwhile" },
    { status: 429, body: { title: "Too many requests", status: 429 }, headers: { "Retry-After": "7" }, text: "Try again in 7 s" },
  ];
  for (const refusal of refusals) {
    await page.route(`**/tasks/${task.id}`, (route) => route.request().method() === "POST"
      ? route.fulfill({ status: refusal.status, contentType: "application/problem+json", headers: refusal.headers || {}, body: JSON.stringify(refusal.body) })
      : route.continue());
    await page.getByRole("button", { name: "Save" }).click();
    await expect(page.getByRole("alert")).toContainText(refusal.text);
    await page.unroute(`**/tasks/${task.id}`);
  }
  await page.route(`**/tasks/${task.id}`, (route) => route.request().method() === "POST" ? route.abort("connectionrefused") : route.continue());
  await page.getByRole("button", { name: "Save" }).click();
  await expect(page.getByRole("alert")).toContainText("Offline — retrying…");
  await page.unroute(`**/tasks/${task.id}`);
  await expect(page).toHaveURL(/\/edit/);
  await expect(page.getByLabel("Title")).toHaveValue("Water the plants");
  await expect(page.getByLabel("Notes")).toHaveValue("Use the rain water");
  await expect(page.getByLabel("Priority")).toHaveValue("high");
  await expect(page.getByLabel("Due date")).toHaveValue("2031-05-04");
  await expect(page.getByLabel("Tags")).toHaveValue("garden, home");
  await expect(page.locator("body")).not.toContainText("Failed to fetch");
  // Then it saves.
  await page.getByRole("button", { name: "Save" }).click();
  await expect(page).toHaveURL(`${server.baseURL}/`);
  await expect(row(page, "Water the plants").locator(".badge")).toHaveText("high");

  // Quick add: refused (429), the text stays in the box.
  const quick = page.locator("#quick");
  await page.route("**/tasks", (route) => route.request().method() === "POST"
    ? route.fulfill({ status: 429, contentType: "application/problem+json", headers: { "Retry-After": "3" }, body: "{}" })
    : route.continue());
  await quick.fill("Repot the fern friday");
  await quick.press("Enter");
  await expect(page.locator("#toast")).toContainText("Slow down");
  await expect(quick).toHaveValue("Repot the fern friday");
  await page.unroute("**/tasks");

  // Inline edit: refused (422), the editor stays open with the text.
  await page.route(`**/tasks/${task.id}`, (route) => route.request().method() === "POST"
    ? route.fulfill({ status: 422, contentType: "application/problem+json", body: JSON.stringify({ title: "Invalid", status: 422, detail: "title: must be at most 200 characters" }) })
    : route.continue());
  await row(page, "Water the plants").locator(".title").click();
  const input = page.locator(".inline-edit");
  await input.fill("Water the plants and the herbs");
  await input.press("Enter");
  await expect(page.locator("#toast")).toContainText("must be at most 200 characters");
  await expect(input).toBeVisible();
  await expect(input).toHaveValue("Water the plants and the herbs");
  await page.unroute(`**/tasks/${task.id}`);
});

test("the preview drops a late answer for older text, and a 429 just hides it", async ({ page }) => {
  await signUp(page, "late");
  const quick = page.locator("#quick");
  const preview = page.locator(".quick-preview");
  // The answer for "Lunch tomorrow" is held back until after the next text's answer.
  let releaseSlow;
  const slowDone = new Promise((resolve) => { releaseSlow = resolve; });
  const slowSent = new Promise((resolve) => {
    page.route("**/api/v1/tasks/parse", async (route) => {
      const { text } = route.request().postDataJSON();
      if (text !== "Lunch tomorrow") { await route.continue(); return; }
      resolve();
      await new Promise((r) => setTimeout(r, 800));
      await route.continue().catch(() => { /* aborted by the page: the point */ });
      releaseSlow();
    });
  });
  await quick.fill("Lunch tomorrow");
  await slowSent;
  await quick.fill("Lunch friday p2");
  await expect(preview.locator(".chip-priority")).toHaveText("p2 high");
  await slowDone;
  await expect(preview.locator(".chip-priority")).toHaveText("p2 high");
  await expect(preview.locator(".chip-due")).not.toHaveText("Tomorrow");
  await page.unroute("**/api/v1/tasks/parse");

  // Over the limit: no preview, no toast, and Enter still adds the task.
  await page.route("**/api/v1/tasks/parse", (route) => route.fulfill({ status: 429, headers: { "Retry-After": "30" }, contentType: "application/problem+json", body: "{}" }));
  const refused = page.waitForResponse((r) => r.url().endsWith("/api/v1/tasks/parse") && r.status() === 429);
  await quick.fill("Pay the window cleaner p3");
  await refused;
  await expect(preview).toBeHidden();
  await expect(page.locator("#toast")).not.toContainText("Slow down");
  await quick.press("Enter");
  await expect(row(page, "Pay the window cleaner")).toBeVisible();
});

test("a quick add shows in the view only when it matches it", async ({ page }) => {
  await signUp(page, "matches");
  await page.goto(`${server.baseURL}/?view=today`);
  const quick = page.locator("#quick");
  await quick.fill("Buy stamps tomorrow");
  await quick.press("Enter");
  await expect(page.locator("#toast")).toContainText("Added “Buy stamps”");
  await quick.fill("Pay the window cleaner today");
  await quick.press("Enter");
  await expect(row(page, "Pay the window cleaner")).toBeVisible();
  // The view was read again after both adds: tomorrow's task is not Today's.
  await expect(row(page, "Buy stamps")).toHaveCount(0);
  await page.goto(`${server.baseURL}/?view=upcoming`);
  await expect(row(page, "Buy stamps")).toBeVisible();
});
