// Today and Upcoming as planners: with sixty overdue tasks the task due today is on the first
// screen below a collapsible Overdue section (collapsed, it stays collapsed); "Reschedule to
// today" moves them all; Upcoming has a heading per day; the sort control names the order.
const fs = require("node:fs");
const path = require("node:path");
const { test, expect } = require("@playwright/test");
const { startServer } = require("./server");

const SHOTS = process.env.SCREENSHOT_DIR || path.join(__dirname, "../../target/screenshots");
fs.mkdirSync(SHOTS, { recursive: true });

let server;
test.beforeAll(async () => { server = await startServer(); });
test.afterAll(async () => { if (server) await server.stop(); });

// A day in the browser's zone (Europe/Paris, as the account's), as YYYY-MM-DD.
const day = (offset) => new Date(Date.now() + offset * 86_400_000).toLocaleDateString("en-CA", { timeZone: "Europe/Paris" });


// Many tasks at once, through one import (as a switcher brings a list): seeding them one by
// one would be more writes in a minute than the default limit allows anyone.
async function importTasks(page, tasks) {
  const csrf = await page.locator("meta[name='csrf-token']").getAttribute("content");
  const response = await page.request.post(`${server.baseURL}/api/v1/import`, { data: { tasks }, headers: { "X-CSRF-Token": csrf } });
  expect(response.status(), await response.text()).toBe(200);
}

test("Today puts today's tasks on the first screen under a collapsible Overdue; Upcoming goes day by day", async ({ page }) => {
  await page.goto(`${server.baseURL}/signup`);
  await page.getByLabel("Email").fill(`planner${Date.now()}@example.com`);
  await page.getByLabel("Password").fill("correct horse battery");
  await page.getByRole("button", { name: "Sign up" }).click();
  await expect(page).toHaveURL(`${server.baseURL}/`);

  const late = Array.from({ length: 60 }, (_, n) => ({ title: `Late ${n}`, due_date: day(-2 - (n % 5)) }));
  await importTasks(page, [
    ...late,
    { title: "Pay the plumber", due_date: day(0) },
    { title: "Dentist", due_local: `${day(1)}T09:30:00` },
    { title: "Book flights", due_date: day(1) },
    { title: "Renew passport", due_date: day(4) },
  ]);

  await page.goto(`${server.baseURL}/?view=today`);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Today");
  const overdue = page.locator("#overdue");
  await expect(overdue.getByRole("heading", { name: /Overdue/ })).toContainText("(60)");
  await expect(overdue.locator(".task")).toHaveCount(5);
  await expect(overdue.getByRole("link", { name: "Show all 60 overdue tasks" })).toBeVisible();
  await page.screenshot({ path: path.join(SHOTS, "today-desktop.png") });
  const plumber = page.locator("#tasks .task", { hasText: "Pay the plumber" });
  await expect(plumber).toBeInViewport();
  await expect(page.getByLabel("Sort")).toHaveValue("due_at");
  await expect(page.locator("#f-sort option:checked")).toHaveText("Due date");
  await page.screenshot({ path: path.join(SHOTS, "today-desktop.png") });

  // Collapsed, it stays collapsed on the next visit.
  await overdue.locator("summary").click();
  await expect(overdue.locator(".task").first()).toBeHidden();
  await page.reload();
  await expect(page.locator("#overdue .task").first()).toBeHidden();
  await page.locator("#overdue summary").click();
  await expect(page.locator("#overdue .task").first()).toBeVisible();

  // Reschedule to today: all sixty.
  await page.getByRole("button", { name: "Reschedule to today" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Moved" })).toHaveText("Moved 60 tasks to today.");
  await expect(page.locator("#overdue")).toHaveCount(0);
  await expect(page.locator("#count")).toHaveText("61 tasks");

  // Upcoming: one heading per day, in order.
  await page.goto(`${server.baseURL}/?view=upcoming`);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Upcoming");
  const heads = page.locator(".day-head h2");
  await expect(heads).toHaveCount(2);
  await expect(heads.first()).toContainText("Tomorrow");
  const items = await page.locator("#tasks > li").evaluateAll((lis) => lis.map((li) => li.classList.contains("day-head") ? `# ${li.textContent.trim().split(" ")[0]}` : li.querySelector(".title").textContent.trim()));
  expect(items[0]).toBe("# Tomorrow");
  expect(items.slice(1, 3).sort()).toEqual(["Book flights", "Dentist"]);
  expect(items[3]).toMatch(/^# /);
  expect(items[4]).toBe("Renew passport");
  await expect(page.locator("#f-sort option:checked")).toHaveText("Due date");
  await page.setViewportSize({ width: 375, height: 800 });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - 375);
  expect(overflow).toBeLessThanOrEqual(0);
  await page.screenshot({ path: path.join(SHOTS, "upcoming-phone.png") });
});

test("checking off shows Undo, which reopens the task, by click and by the c key", async ({ page }) => {
  await page.goto(`${server.baseURL}/signup`);
  await page.getByLabel("Email").fill(`undo${Date.now()}@example.com`);
  await page.getByLabel("Password").fill("correct horse battery");
  await page.getByRole("button", { name: "Sign up" }).click();
  await expect(page).toHaveURL(`${server.baseURL}/`);
  await page.getByLabel("New task").fill("Send the invoice");
  await page.getByLabel("New task").press("Enter");
  const invoice = page.locator(".task", { hasText: "Send the invoice" });
  await expect(invoice).toBeVisible();

  await invoice.getByRole("checkbox").click();
  await expect(invoice).toHaveClass(/done/);
  await expect(page.locator("#toast")).toContainText("Done: “Send the invoice”");
  await page.locator("#toast").getByRole("button", { name: "Undo" }).click();
  await expect(page.locator("#toast")).toContainText("Undone");
  await expect(invoice).not.toHaveClass(/done/);
  await page.reload();
  await expect(page.locator(".task", { hasText: "Send the invoice" })).not.toHaveClass(/done/);

  // The keyboard's c goes the same way.
  await page.locator("body").press("j");
  await expect(page.locator(".task", { hasText: "Send the invoice" })).toHaveClass(/selected/);
  await page.keyboard.press("c");
  await expect(page.locator(".task", { hasText: "Send the invoice" })).toHaveClass(/done/);
  await page.locator("#toast").getByRole("button", { name: "Undo" }).click();
  await expect(page.locator(".task", { hasText: "Send the invoice" })).not.toHaveClass(/done/);
});
