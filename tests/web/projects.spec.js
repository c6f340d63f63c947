// Projects in the web app, end to end in headless Chromium against the real binary: the
// sidebar, a project with sections and subtasks, moving by drag and by keyboard, a recurring
// task checked off and undone, and a zone change that keeps clock times.
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

let counter = 0;
const newEmail = () => `proj${Date.now()}${counter++}@example.com`;

const signUp = (page) => signUpAt(page, server.baseURL, { email: newEmail(), name: "Robin" });

const sidebar = (page) => page.locator("#sidebar");
const main = (page) => page.locator("main");
const sideLink = (page, name) => sidebar(page).locator(".side-link", { has: page.locator(".side-name", { hasText: new RegExp(`^${name}$`) }) });
const row = (page, title) => page.locator(".task", { has: page.locator(".title", { hasText: new RegExp(`^${title}$`) }) });
/** The titles of a list's shown rows, in order. */
/** (Empty while a drop reloads the page; polled until it settles.) */
const titles = (list) => list.locator(".task:visible .title").allTextContents().catch(() => []);

async function addProject(page, name, colour) {
  await sidebar(page).getByText("Add project", { exact: true }).first().click();
  await sidebar(page).getByLabel("Project name").fill(name);
  if (colour) await sidebar(page).getByLabel("Colour").selectOption({ label: colour });
  await sidebar(page).getByRole("button", { name: "Add project" }).click();
  await expect(page.getByRole("heading", { level: 1 })).toHaveText(name);
}

async function addTask(page, label, text) {
  await page.getByLabel(label, { exact: true }).fill(text);
  await page.getByLabel(label, { exact: true }).press("Enter");
  await expect(row(page, text.split(" every")[0])).toBeVisible();
}

async function addSubtask(page, parent, title) {
  await row(page, parent).getByRole("link", { name: `Add subtask: ${parent}` }).click();
  await page.getByLabel("New subtask").fill(title);
  await page.getByRole("button", { name: "Add subtask" }).click();
  await expect(row(page, title)).toBeVisible();
}

test("the sidebar lists Inbox, Today, Upcoming and the projects with counts; projects are added, renamed, archived and deleted", async ({ page }) => {
  await signUp(page);
  await expect(sideLink(page, "Inbox")).toBeVisible();
  await expect(sideLink(page, "Today")).toBeVisible();
  await expect(sideLink(page, "Upcoming")).toBeVisible();
  await page.getByLabel("New task").fill("Buy milk");
  await page.getByLabel("New task").press("Enter");
  await expect(page.locator("#toast")).toContainText("Added");
  await page.reload();
  await expect(sideLink(page, "Inbox").locator(".side-count")).toHaveText("1");

  // A blank name is refused: the form says why and keeps what was typed.
  await sidebar(page).getByText("Add project", { exact: true }).first().click();
  await sidebar(page).getByLabel("Project name").fill("   ");
  await sidebar(page).getByLabel("Colour").selectOption({ label: "Blue" });
  await sidebar(page).getByRole("button", { name: "Add project" }).click();
  await expect(page.getByRole("alert")).toContainText("name");
  await expect(main(page).getByLabel("Colour")).toHaveValue("#4073ff");
  await expect(main(page).getByLabel("Project name")).toHaveValue("   ");
  await main(page).getByLabel("Project name").fill("Work");
  await main(page).getByRole("button", { name: "Add project" }).click();
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Work");
  await expect(sideLink(page, "Work")).toHaveAttribute("aria-current", "page");
  await expect(sideLink(page, "Work").locator("circle")).toHaveAttribute("fill", "#4073ff");

  await addTask(page, "Add a task to Work", "Write the report");
  await addTask(page, "Add a task to Work", "Book the room");
  await expect(sideLink(page, "Work").locator(".side-count")).toHaveText("2");
  await row(page, "Book the room").getByRole("checkbox").click();
  await expect(row(page, "Book the room")).toHaveClass(/done/);
  await page.reload();
  await expect(sideLink(page, "Work").locator(".side-count")).toHaveText("1");
  await page.screenshot({ path: path.join(SHOTS, "project-desktop.png") });

  // Rename and recolour.
  await page.getByText("Edit project", { exact: true }).click();
  await main(page).getByLabel("Project name").fill("Office");
  await page.locator("#project-color").selectOption({ label: "Red" });
  await page.getByRole("button", { name: "Save project" }).click();
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Office");
  await expect(sideLink(page, "Office").locator("circle")).toHaveAttribute("fill", "#db4035");
  await expect(sideLink(page, "Work")).toHaveCount(0);

  // Archived, it leaves the sidebar's list for the "Archived" disclosure, and comes back.
  await page.getByText("Edit project", { exact: true }).click();
  await page.getByRole("button", { name: "Archive project" }).click();
  await expect(page.locator("#side-projects").getByText("Office")).toHaveCount(0);
  await sidebar(page).getByText("Archived (1)").click();
  await expect(sidebar(page).locator(".side-archived").getByRole("link", { name: "Office" })).toBeVisible();
  await page.getByText("Edit project", { exact: true }).click();
  await page.getByRole("button", { name: "Unarchive project" }).click();
  await expect(page.locator("#side-projects").getByText("Office")).toBeVisible();

  // The Inbox has no name to change, and cannot be archived or deleted.
  await sideLink(page, "Inbox").click();
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Inbox");
  await expect(row(page, "Buy milk")).toBeVisible();
  await page.getByText("Edit project", { exact: true }).click();
  await expect(main(page).getByLabel("Project name")).toHaveCount(0);
  await expect(page.getByRole("button", { name: "Archive project" })).toHaveCount(0);
  await expect(page.getByText("Delete project…")).toHaveCount(0);

  // Deleting asks first, then takes the project and its tasks.
  await sideLink(page, "Office").click();
  await page.getByText("Edit project", { exact: true }).click();
  await page.getByText("Delete project…").click();
  await page.getByRole("button", { name: "Delete “Office” for good" }).click();
  await expect(page).toHaveURL(`${server.baseURL}/`);
  await expect(sideLink(page, "Office")).toHaveCount(0);
  const gone = await page.goto(`${server.baseURL}/projects/999999`);
  expect(gone.status()).toBe(404);
});

test("a project shows its sections and subtasks four levels deep, collapsible", async ({ page }) => {
  await signUp(page);
  await addProject(page, "Launch", "Green");
  await addTask(page, "Add a task to Launch", "Pick a date");
  await page.getByLabel("New section").fill("Design");
  await page.getByRole("button", { name: "Add section" }).click();
  await expect(page.getByRole("heading", { name: "Design" })).toBeVisible();
  await addTask(page, "Add a task to Design", "Draw the logo");
  await addSubtask(page, "Draw the logo", "Sketch ideas");
  await addSubtask(page, "Sketch ideas", "Pick colours");
  await addSubtask(page, "Pick colours", "Try blue");
  await addSubtask(page, "Try blue", "Ask Sam");

  const design = page.locator(".psection", { has: page.getByRole("heading", { name: "Design" }) });
  expect(await titles(design)).toEqual(["Draw the logo", "Sketch ideas", "Pick colours", "Try blue", "Ask Sam"]);
  for (const [title, depth] of [["Draw the logo", 0], ["Sketch ideas", 1], ["Pick colours", 2], ["Try blue", 3], ["Ask Sam", 4]]) {
    await expect(row(page, title)).toHaveAttribute("data-depth", String(depth));
  }
  expect(await titles(page.locator("#tasks"))).toEqual(["Pick a date"]);
  // Indented: each level's check circle further right (the indent is inside the row).
  const left = async (title) => (await row(page, title).locator(".checkbox").boundingBox()).x;
  expect(await left("Ask Sam")).toBeGreaterThan(await left("Try blue"));
  expect(await left("Sketch ideas")).toBeGreaterThan(await left("Draw the logo"));
  await page.screenshot({ path: path.join(SHOTS, "project-tree-desktop.png") });

  // Collapse and expand a level (kept over a reload in this tab).
  const twisty = page.getByRole("button", { name: "Subtasks of Sketch ideas" });
  await twisty.click();
  await expect(twisty).toHaveAttribute("aria-expanded", "false");
  await expect(row(page, "Pick colours")).toBeHidden();
  await expect(row(page, "Ask Sam")).toBeHidden();
  await page.reload();
  await expect(row(page, "Ask Sam")).toBeHidden();
  await page.getByRole("button", { name: "Subtasks of Sketch ideas" }).click();
  await expect(row(page, "Ask Sam")).toBeVisible();

  // A blank task is refused with the message, the place kept.
  await page.getByLabel("Add a task to Design", { exact: true }).fill("  !high");
  await page.getByLabel("Add a task to Design", { exact: true }).press("Enter");
  await expect(page.getByRole("alert")).toContainText("title");
  await expect(page.getByLabel("New task")).toHaveValue("  !high");
  await page.getByLabel("New task").fill("Print posters");
  await page.getByRole("button", { name: "Add task" }).click();
  expect(await titles(design)).toContain("Print posters");

  // Rename the section; delete it (asked first) with its tasks.
  await page.getByText("Edit", { exact: true }).click();
  await page.getByLabel("Section name").fill("Visual design");
  await page.getByRole("button", { name: "Rename section" }).click();
  await expect(page.getByRole("heading", { name: "Visual design" })).toBeVisible();
  await expect(sideLink(page, "Launch").locator(".side-count")).toHaveText("7");
  await page.getByText("Edit", { exact: true }).click();
  await page.getByText("Delete section…").click();
  await expect(page.getByText("Delete “Visual design” and its 6 open tasks")).toBeVisible();
  await page.getByRole("button", { name: "Delete section “Visual design” and its tasks" }).click();
  await expect(page.getByRole("heading", { name: "Visual design" })).toHaveCount(0);
  await expect(row(page, "Draw the logo")).toHaveCount(0);
  await expect(sideLink(page, "Launch").locator(".side-count")).toHaveText("1");
});

test("tasks move by drag and drop and by keyboard", async ({ page }) => {
  await signUp(page);
  await addProject(page, "Errands");
  for (const title of ["Alpha", "Bravo", "Charlie"]) await addTask(page, "Add a task to Errands", title);
  await page.getByLabel("New section").fill("Later");
  await page.getByRole("button", { name: "Add section" }).click();
  await expect(page.getByRole("heading", { name: "Later" })).toBeVisible();
  const top = page.locator("#tasks");
  expect(await titles(top)).toEqual(["Alpha", "Bravo", "Charlie"]);

  // Dropped on the left of a row: just before it.
  await row(page, "Charlie").dragTo(row(page, "Alpha"), { targetPosition: { x: 60, y: 10 } });
  await expect.poll(() => titles(top)).toEqual(["Charlie", "Alpha", "Bravo"]);
  // Dropped on the right of a row: its subtask.
  const alphaBox = await row(page, "Alpha").boundingBox();
  await row(page, "Bravo").dragTo(row(page, "Alpha"), { targetPosition: { x: alphaBox.width - 20, y: 10 } });
  await expect(row(page, "Bravo")).toHaveAttribute("data-depth", "1");
  await expect(row(page, "Bravo")).toHaveAttribute("data-parent", await row(page, "Alpha").getAttribute("data-id"));
  // Dropped on a section's heading: the top of that section, subtasks along.
  await row(page, "Alpha").dragTo(page.locator(".psection-head", { hasText: "Later" }));
  const later = page.locator(".psection", { has: page.getByRole("heading", { name: "Later" }) });
  await expect.poll(() => titles(later)).toEqual(["Alpha", "Bravo"]);
  expect(await titles(top)).toEqual(["Charlie"]);
  await page.reload();
  expect(await titles(later)).toEqual(["Alpha", "Bravo"]);

  // The keyboard: reorder with the move buttons (Enter on a focused button) …
  await addTask(page, "Add a task to Later", "Delta");
  expect(await titles(later)).toEqual(["Alpha", "Bravo", "Delta"]);
  await page.getByRole("button", { name: "Move up: Delta" }).focus();
  await page.keyboard.press("Enter");
  await expect.poll(() => titles(later)).toEqual(["Delta", "Alpha", "Bravo"]);
  // … Shift+↓ on the selected row …
  await page.locator("body").press("j");
  await page.keyboard.press("j");
  await expect(row(page, "Delta")).toHaveClass(/selected/);
  await page.keyboard.press("Shift+ArrowDown");
  await expect.poll(() => titles(later)).toEqual(["Alpha", "Bravo", "Delta"]);
  // … and "m" opens Move…, where a select chooses the place: under Charlie.
  await expect(row(page, "Delta")).toHaveClass(/selected/);
  await page.keyboard.press("m");
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Move “Delta”");
  await expect(page.getByLabel("Move to")).toBeFocused();
  await page.getByLabel("Move to").selectOption({ label: "↳ under “Charlie”" });
  await page.getByRole("button", { name: "Move", exact: true }).press("Enter");
  await expect(row(page, "Delta")).toHaveAttribute("data-depth", "1");
  expect(await titles(top)).toEqual(["Charlie", "Delta"]);
  // To another project: the Inbox.
  await row(page, "Delta").getByRole("link", { name: "Move: Delta" }).click();
  await page.getByLabel("Move to").selectOption({ label: "Inbox" });
  await page.getByRole("button", { name: "Move", exact: true }).click();
  await expect(row(page, "Delta")).toHaveCount(0);
  await expect(sideLink(page, "Inbox").locator(".side-count")).toHaveText("1");
  // Onto a project in the sidebar, by drag.
  await row(page, "Charlie").dragTo(sideLink(page, "Inbox"));
  await expect(row(page, "Charlie")).toHaveCount(0);
  await expect(sideLink(page, "Inbox").locator(".side-count")).toHaveText("2");
});

test("a recurring task checked off shows its next due in one row, and Undo brings it back", async ({ page }) => {
  await signUp(page);
  await page.getByLabel("New task").fill("Water the plants every day");
  await page.getByLabel("New task").press("Enter");
  const plants = row(page, "Water the plants");
  await expect(plants.locator("time.due")).toContainText("Today");
  await plants.getByRole("checkbox").click();
  await expect(page.locator("#toast")).toContainText("next Tomorrow");
  await expect(plants).toHaveCount(1);
  await expect(plants).not.toHaveClass(/done/);
  await expect(plants.locator("time.due")).toContainText("Tomorrow");
  await page.locator("#toast").getByRole("button", { name: "Undo" }).click();
  await expect(plants.locator("time.due")).toContainText("Today");
  await page.reload();
  await expect(row(page, "Water the plants")).toHaveCount(1);
  await expect(row(page, "Water the plants").locator("time.due")).toContainText("Today");

  // In a project page too, inside the tree.
  await addProject(page, "Garden");
  await addTask(page, "Add a task to Garden", "Feed the fish every day");
  const fish = row(page, "Feed the fish");
  await fish.getByRole("checkbox").click();
  await expect(fish.locator("time.due")).toContainText("Tomorrow");
  await expect(fish).toHaveAttribute("data-depth", "0");
  await page.locator("#toast").getByRole("button", { name: "Undo" }).click();
  await expect(fish.locator("time.due")).toContainText("Today");
  await expect(page.locator(".task")).toHaveCount(1);
});

test("changing the time zone asks first and keeps a floating 09:30 at 09:30", async ({ page }) => {
  await signUp(page);
  await page.getByLabel("New task").fill("Standup tomorrow 9:30");
  await page.getByLabel("New task").press("Enter");
  await expect(row(page, "Standup").locator("time.due")).toContainText("09:30");
  await page.getByRole("link", { name: "Settings" }).click();
  await page.getByLabel("Time zone", { exact: true }).fill("America/New_York");
  await page.getByRole("button", { name: "Save profile" }).click();
  await expect(page.getByRole("heading", { name: "Change your time zone?" })).toBeVisible();
  await expect(page.locator("#zone-keeps")).toContainText("“Standup” at 09:30 stays at 09:30");
  await page.getByRole("button", { name: "Change time zone" }).click();
  await expect(page.getByText("Profile saved")).toBeVisible();
  await expect(page.getByLabel("Time zone", { exact: true })).toHaveValue("America/New_York");
  await page.goto(`${server.baseURL}/`);
  await expect(row(page, "Standup").locator("time.due")).toContainText("09:30");
  // The moment moved with the clock: 09:30 in New York.
  const due = await row(page, "Standup").locator("time.due").getAttribute("datetime");
  const local = new Date(due).toLocaleString("en-GB", { timeZone: "America/New_York", hour: "2-digit", minute: "2-digit" });
  expect(local).toBe("09:30");

  // Keeping the zone: nothing changes.
  await page.goto(`${server.baseURL}/settings`);
  await page.getByLabel("Time zone", { exact: true }).fill("Asia/Tokyo");
  await page.getByRole("button", { name: "Save profile" }).click();
  await page.getByRole("link", { name: "Keep America/New_York" }).click();
  await expect(page.getByLabel("Time zone", { exact: true })).toHaveValue("America/New_York");
});

test("phone width: a project page with subtasks fits 375 px", async ({ browser }) => {
  const context = await browser.newContext({ viewport: { width: 375, height: 780 }, isMobile: true, hasTouch: true });
  const page = await context.newPage();
  await signUp(page);
  await addProject(page, "A project with a rather long name for a phone");
  await addTask(page, "Add a task to A project with a rather long name for a phone", "Plan the move");
  await addSubtask(page, "Plan the move", "Book the van");
  await addSubtask(page, "Book the van", "Compare three offers");
  await addSubtask(page, "Compare three offers", "Call the cheapest");
  await addSubtask(page, "Call the cheapest", "Confirm by mail");
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - 375);
  expect(overflow, "no horizontal scrolling").toBeLessThanOrEqual(0);
  await page.screenshot({ path: path.join(SHOTS, "project-phone.png") });
  await context.close();
});
