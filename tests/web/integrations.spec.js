// The parts of the web app that use the chat, events and webhook APIs. Each test skips itself
// when the server under test does not have that API yet (the page hides those parts then).
const { test, expect } = require("@playwright/test");
const { startServer } = require("./server");
const { signUp: signUpAt } = require("./signup");
const { startScriptedLlm } = require("./llm");

let server;
let llm;
test.beforeAll(async () => {
  llm = await startScriptedLlm();
  server = await startServer({
    LLM_BASE_URL: llm.url,
    LLM_API_KEY: "test-key",
    LLM_MODEL: "scripted",
    TODO_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString("base64"),
    WEBHOOK_ALLOW_PRIVATE_NETWORKS: "true",
  });
});
test.afterAll(async () => {
  if (server) await server.stop();
  if (llm) await llm.close();
});

const signUp = (page) => signUpAt(page, server.baseURL, { who: "int" });

async function routeExists(page, path) {
  return page.evaluate(async (p) => {
    const controller = new AbortController();
    const response = await fetch(p, { signal: controller.signal });
    if (response.status !== 404) { controller.abort(); return true; }
    const body = await response.json().catch(() => ({}));
    return !/no such route/.test(body.detail || "");
  }, path);
}

const row = (page, title) => page.locator(".task", { has: page.locator(".title", { hasText: title }) });

test("the chat panel streams the answer and shows which tools ran", async ({ page }) => {
  await signUp(page);
  test.skip(!(await routeExists(page, "/api/v1/conversations")), "this server has no chat API");
  await page.getByRole("button", { name: "Chat" }).click();
  await page.getByLabel("Message").fill("Add buy bread, it's important");
  await page.getByRole("button", { name: "Send" }).click();
  await expect(page.locator("#chat-log .tool")).toContainText("add_task");
  await expect(page.locator("#chat-log .assistant").last()).toContainText("Added “Buy bread”");
  await expect(row(page, "Buy bread")).toBeVisible();
  await expect(row(page, "Buy bread").locator(".badge")).toHaveText("high");
  await page.screenshot({ path: `${process.env.SCREENSHOT_DIR || "."}/chat-desktop.png` });

  // The conversation follows to another page, and goes on from there.
  await page.getByRole("link", { name: "Settings" }).click();
  await expect(page.locator("#chat-log .user")).toHaveText(["Add buy bread, it's important"]);
  await expect(page.locator("#chat-log .tool")).toContainText("add_task");
  await expect(page.locator("#chat-log .assistant").last()).toContainText("Added “Buy bread”");
  await page.getByLabel("Message").fill("And another");
  await page.getByRole("button", { name: "Send" }).click();
  await expect(page.locator("#chat-log .user")).toHaveCount(2);
  await expect(page.locator("#chat-log .assistant").last()).toContainText("Added");
  const history = llm.requests[llm.requests.length - 1].messages.filter((m) => m.role === "user").map((m) => m.content);
  expect(history).toEqual(["Add buy bread, it's important", "And another"]);
  await page.getByRole("button", { name: "New chat" }).click();
  await expect(page.locator("#chat-log li")).toHaveCount(0);
});

test("webhooks and the LLM key are managed in settings", async ({ page }) => {
  await signUp(page);
  await page.goto(`${server.baseURL}/settings`);
  const hooks = await routeExists(page, "/api/v1/webhooks");
  const llmKey = await routeExists(page, "/api/v1/llm-credentials");
  test.skip(!hooks && !llmKey, "this server has neither webhooks nor LLM credentials");
  if (hooks) {
    await page.getByLabel("URL", { exact: true }).fill("http://127.0.0.1:9/todo-hook");
    await page.getByRole("button", { name: "Add webhook" }).click();
    await expect(page.locator("#webhook-list")).toContainText("http://127.0.0.1:9/todo-hook");
    await page.reload();
    await expect(page.locator("#webhook-list")).toContainText("http://127.0.0.1:9/todo-hook");
    await page.getByRole("button", { name: /Remove webhook/ }).click();
    await expect(page.locator("#webhook-list li")).toHaveCount(0);
  }
  if (llmKey) {
    await page.getByLabel("API key", { exact: true }).fill("sk-test-0123456789abcdef");
    await page.getByRole("button", { name: "Save key" }).click();
    await expect(page.locator("#llm-current")).toContainText("Stored");
    await expect(page.locator("#llm-current")).not.toContainText("0123456789abcdef");
    await page.getByRole("button", { name: "Remove key" }).click();
    await expect(page.locator("#llm-current")).toContainText("No key stored");
  }
});

test("a reminder shows a browser notification", async ({ browser }) => {
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
  test.skip(!(await routeExists(page, "/api/v1/events")), "this server has no event stream");
  const soon = new Date(Date.now() + 3000).toISOString();
  const created = await page.evaluate(async (at) => {
    const csrf = document.querySelector('meta[name="csrf-token"]').content;
    const response = await fetch("/api/v1/tasks", {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify({ title: "Stretch", reminders: [{ remind_at: at }] }),
    });
    return response.status;
  }, soon);
  expect(created).toBe(201);
  await expect.poll(() => page.evaluate(() => window.__notifications.map((n) => n.body)), { timeout: 30_000 }).toContain("Stretch");
  await context.close();
});

test("a reminder is set from the edit form", async ({ page }) => {
  await signUp(page);
  test.skip(!(await routeExists(page, "/api/v1/events")), "this server has no reminders");
  await page.getByLabel("New task").fill("Dentist");
  await page.getByLabel("New task").press("Enter");
  await row(page, "Dentist").getByRole("link", { name: /Edit details/ }).click();
  await page.getByLabel("Due date").fill("2030-05-06");
  await page.getByLabel("Time").fill("10:00");
  await page.getByLabel("Remind me").selectOption({ label: "1 day before" });
  await page.getByRole("button", { name: "Save" }).click();
  await expect(page).toHaveURL(`${server.baseURL}/`);
  const id = (await row(page, "Dentist").getAttribute("id")).replace("task-", "");
  const task = await page.evaluate(async (taskId) => (await fetch(`/api/v1/tasks/${taskId}`)).json(), id);
  expect(task.reminders.map((r) => r.minutes_before)).toEqual([1440]);
  await page.goto(`${server.baseURL}/tasks/${id}/edit`);
  await expect(page.getByLabel("Remind me")).toHaveValue("1440");
});
