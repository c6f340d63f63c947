// Screenshots of the main screens — inbox, today, upcoming, a project, edit, settings (and its
// tags page), chat — at 1280 and 390 px wide, in light and dark, into SCREENSHOT_DIR
// (target/screenshots). The best are copied by hand into docs/screenshots for the README and docs/web.md. Each shot
// also checks its page is the one meant (its heading), so a broken page fails here too.
const fs = require("node:fs");
const path = require("node:path");
const { test, expect } = require("@playwright/test");
const { startServer } = require("./server");
const { startScriptedLlm } = require("./llm");

const SHOTS = process.env.SCREENSHOT_DIR || path.join(__dirname, "../../target/screenshots");
fs.mkdirSync(SHOTS, { recursive: true });

let server;
let llm;
test.beforeAll(async () => {
  llm = await startScriptedLlm();
  server = await startServer({ LLM_BASE_URL: llm.url, LLM_API_KEY: "test-key", LLM_MODEL: "scripted" });
});
test.afterAll(async () => {
  if (server) await server.stop();
  if (llm) await llm.close();
});

const day = (offset) => new Date(Date.now() + offset * 86_400_000).toLocaleDateString("en-CA", { timeZone: "Europe/Paris" });

async function api(page, method, url, data) {
  const csrf = await page.locator("meta[name='csrf-token']").getAttribute("content");
  const response = await page.request.fetch(`${server.baseURL}${url}`, { method, data, headers: { "X-CSRF-Token": csrf } });
  expect(response.ok()).toBeTruthy();
  return response.status() === 204 ? null : response.json();
}

// A list that looks like a week of a real one: dates near and far, priorities, tags with
// colours, a project with a section.
async function seed(page) {
  const home = await api(page, "POST", "/api/v1/projects", { name: "Home", color: "#299438" });
  const work = await api(page, "POST", "/api/v1/projects", { name: "Work", color: "#4073ff" });
  const section = await api(page, "POST", `/api/v1/projects/${work.id}/sections`, { name: "This sprint" });
  const tasks = [
    { title: "Renew the passport", priority: "urgent", due_date: day(-2), tags: ["admin"] },
    { title: "Pay the electricity bill", priority: "high", due_date: day(0), tags: ["bills", "home"], project_id: home.id },
    { title: "Standup", due_local: `${day(0)}T09:30:00`, recurrence: "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR", project_id: work.id },
    { title: "Review the quarterly report", priority: "medium", due_local: `${day(1)}T14:00:00`, tags: ["work"], project_id: work.id, section_id: section.id },
    { title: "Call the plumber about the kitchen tap", due_date: day(1), tags: ["home", "calls"], project_id: home.id },
    { title: "Buy a birthday present for Sam", priority: "high", due_date: day(3), tags: ["errands"] },
    { title: "Book flights for the spring trip", due_date: day(5) },
    { title: "Water the plants", due_date: day(2), recurrence: "FREQ=WEEKLY", tags: ["home"], project_id: home.id },
    { title: "Draft the team offsite agenda", priority: "medium", due_date: day(12), tags: ["work"], project_id: work.id, section_id: section.id },
    { title: "Read “The Design of Everyday Things”", tags: ["reading"] },
    { title: "Cancel the old gym membership", priority: "low", due_date: day(20) },
    { title: "Sort the photos from the summer", tags: ["home"] },
    { title: "Update the CV", due_date: day(45), tags: ["admin"] },
    { title: "Fix the bike's back brake", tags: ["errands"], description: "The cable is frayed; the shop on Main St. has them." },
  ];
  let report;
  for (const t of tasks) {
    const made = await api(page, "POST", "/api/v1/tasks", t);
    if (t.title.startsWith("Review")) report = made;
  }
  const tags = await api(page, "GET", "/api/v1/tags");
  const colours = { home: "#299438", work: "#4073ff", bills: "#db4035", errands: "#ff9933", admin: "#884dff", calls: "#14aaf5", reading: "#e05194" };
  for (const tag of tags) {
    if (colours[tag.name]) await api(page, "PATCH", `/api/v1/tags/${tag.id}`, { color: colours[tag.name] });
  }
  return { home, work, report };
}

const sizes = [["desktop", { width: 1280, height: 800 }], ["phone", { width: 390, height: 844 }]];
const schemes = ["light", "dark"];

test("screenshots of the main screens at 1280 and 390 px, light and dark", async ({ browser }) => {
  test.setTimeout(180_000);
  // One account, seeded once; each size and scheme is a context of its own signed in to it.
  const first = await browser.newPage();
  const email = `shots${Date.now()}@example.com`;
  await first.goto(`${server.baseURL}/signup`);
  await first.getByLabel("Name").fill("Robin Smith");
  await first.getByLabel("Email").fill(email);
  await first.getByLabel("Password").fill("correct horse battery");
  await first.getByRole("button", { name: "Sign up" }).click();
  await expect(first).toHaveURL(`${server.baseURL}/`);
  const { work, report } = await seed(first);
  const state = await first.context().storageState();
  await first.close();

  for (const [size, viewport] of sizes) {
    for (const colorScheme of schemes) {
      const context = await browser.newContext({ viewport, colorScheme, storageState: state });
      const page = await context.newPage();
      const shot = async (name) => {
        await page.evaluate(() => document.activeElement && document.activeElement.blur());
        await page.screenshot({ path: path.join(SHOTS, `${name}-${size}-${colorScheme}.png`) });
      };
      const visit = async (url, heading) => {
        await page.goto(`${server.baseURL}${url}`);
        await expect(page.getByRole("heading", { level: 1 })).toHaveText(heading);
      };
      await visit("/", "Open tasks");
      await shot("inbox");
      await visit("/?view=today", "Today");
      await shot("today");
      await visit("/?view=upcoming", "Upcoming");
      await shot("upcoming");
      await visit(`/projects/${work.id}`, "Work");
      await shot("project");
      await visit(`/tasks/${report.id}/edit`, "Edit task");
      await shot("edit");
      await visit("/settings", "Settings");
      await shot("settings");
      await visit("/settings/tags", "Tags");
      await shot("tags");

      await visit("/", "Open tasks");
      const toggle = page.locator("#chat-toggle");
      await expect(toggle).toBeVisible();
      await toggle.click();
      await page.locator("#chat-input").fill("Remind me to buy bread");
      await page.locator("#chat-input").press("Enter");
      await expect(page.locator("#chat-log")).toContainText("Buy bread");
      await expect(page.locator("#chat-input")).toBeEnabled();
      await shot("chat");
      // Closed again, so the next context starts without it.
      await page.getByRole("button", { name: "Close the chat" }).click();
      await context.close();
    }
  }
});
