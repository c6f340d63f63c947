// When things go wrong: a session that ended keeps the typed quick-add text, says "Signed
// out — sign in again" and comes back to the same page after signing in; a server that cannot
// be reached shows "Offline — retrying…" (never "Failed to fetch") and clears when it is back;
// the assistant is hidden or explained in plain words on a server without a model or an
// encryption key. Rate limits at their defaults.
const fs = require("node:fs");
const path = require("node:path");
const { test, expect } = require("@playwright/test");
const { startServer } = require("./server");
const { PASSWORD, signUp: signUpAt } = require("./signup");

const SHOTS = process.env.SCREENSHOT_DIR || path.join(__dirname, "../../target/screenshots");
fs.mkdirSync(SHOTS, { recursive: true });

let server;
test.beforeAll(async () => { server = await startServer(); });
test.afterAll(async () => { if (server) await server.stop(); });

const signUp = (page, base, who) => signUpAt(page, base, { who });

async function logIn(page, email) {
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Log in" }).click();
}

test("signed out elsewhere: the typed text is kept, and signing in comes back to the same page with it", async ({ browser }) => {
  const laptopContext = await browser.newContext();
  const phoneContext = await browser.newContext();
  try {
    const laptop = await laptopContext.newPage();
    const email = await signUp(laptop, server.baseURL, "gone");
    await laptop.goto(`${server.baseURL}/?view=today`);

    // The phone signs in and ends the laptop's session from Settings.
    const phone = await phoneContext.newPage();
    await phone.goto(`${server.baseURL}/login`);
    await logIn(phone, email);
    await expect(phone).toHaveURL(`${server.baseURL}/`);
    await phone.goto(`${server.baseURL}/settings#account`);
    const rows = phone.locator("table.sessions tbody tr");
    await expect(rows).toHaveCount(2);
    await rows.nth(1).getByRole("button", { name: /^Sign out/ }).click();
    await expect(rows).toHaveCount(1);

    // The laptop types and submits: refused, the text stays and the page says why.
    const quick = laptop.locator("#quick");
    await quick.fill("Buy stamps tomorrow");
    await quick.press("Enter");
    const bar = laptop.locator("#signed-out");
    await expect(bar).toContainText("Signed out — sign in again");
    await expect(bar).toHaveAttribute("role", "alert");
    await expect(quick).toHaveValue("Buy stamps tomorrow");
    await expect(laptop.locator("body")).not.toContainText("Failed to fetch");
    await laptop.screenshot({ path: path.join(SHOTS, "signed-out-desktop.png") });

    // Sign in: back on Today, the text in the box again.
    await bar.getByRole("link", { name: "Sign in" }).click();
    await expect(laptop).toHaveURL(`${server.baseURL}/login?next=%2F%3Fview%3Dtoday`);
    await logIn(laptop, email);
    await expect(laptop).toHaveURL(`${server.baseURL}/?view=today`);
    await expect(laptop.locator("#quick")).toHaveValue("Buy stamps tomorrow");
    await expect(laptop.locator("#signed-out")).toHaveCount(0);
    await laptop.locator("#quick").press("Enter");
    await expect(laptop.locator("#toast")).toContainText("Added “Buy stamps”");
    // Only once: a reload does not bring it back.
    await laptop.reload();
    await expect(laptop.locator("#quick")).toHaveValue("");

    // A page opened without a session goes to sign in and back to it; another site never.
    await laptopContext.clearCookies();
    await laptop.goto(`${server.baseURL}/settings`);
    await expect(laptop).toHaveURL(`${server.baseURL}/login?next=%2Fsettings`);
    await logIn(laptop, email);
    await expect(laptop).toHaveURL(`${server.baseURL}/settings`);
    await laptopContext.clearCookies();
    for (const evil of ["//evil.com", "https://evil.com"]) {
      await laptop.goto(`${server.baseURL}/login?next=${encodeURIComponent(evil)}`);
      await logIn(laptop, email);
      await expect(laptop).toHaveURL(`${server.baseURL}/`);
      await laptopContext.clearCookies();
    }
  } finally {
    await laptopContext.close();
    await phoneContext.close();
  }
});

test("offline: the page says so, queues the add, retries and saves it when back; never 'Failed to fetch'", async ({ page, context }) => {
  await signUp(page, server.baseURL, "offline");
  await context.setOffline(true);
  const bar = page.locator("#offline");
  await expect(bar).toHaveText("Offline — retrying…");
  const quick = page.locator("#quick");
  await quick.fill("Call the plumber");
  await quick.press("Enter");
  // Queued (pwa.spec.js has the rest): shown as pending, sent when the server is back.
  await expect(page.locator("#toast")).toContainText("added when back online");
  await expect(page.locator("#tasks .task.pending", { hasText: "Call the plumber" })).toBeVisible();
  await expect(page.locator("body")).not.toContainText("Failed to fetch");
  await page.screenshot({ path: path.join(SHOTS, "offline-desktop.png") });
  await context.setOffline(false);
  await expect(bar).toHaveCount(0);
  await expect(page.locator("#tasks .task:not(.pending)", { hasText: "Call the plumber" })).toBeVisible();
});

test("a stopped server shows 'Offline — retrying…' and the quick-add text is kept in the queue", async ({ page }) => {
  const own = await startServer();
  let stopped = false;
  try {
    await signUp(page, own.baseURL, "stopped");
    await expect(page.locator("html")).toHaveAttribute("data-live", "open");
    await own.stop();
    stopped = true;
    // The event stream drops; the page checks whether the server is there at all.
    await expect(page.locator("#offline")).toHaveText("Offline — retrying…", { timeout: 15_000 });
    const quick = page.locator("#quick");
    await quick.fill("Fix the gate");
    await quick.press("Enter");
    await expect(page.locator("#tasks .task.pending", { hasText: "Fix the gate" })).toBeVisible();
    const queued = await page.evaluate(() => JSON.parse(localStorage.getItem("todo-offline-queue")).items.map((i) => i.title));
    expect(queued).toEqual(["Fix the gate"]);
    await expect(page.locator("body")).not.toContainText("Failed to fetch");
  } finally {
    if (!stopped) await own.stop();
  }
});

test("without a model the chat is hidden and settings explain it in plain words", async ({ page }) => {
  await signUp(page, server.baseURL, "nochat");
  const status = page.waitForResponse((r) => r.url().endsWith("/assistant"));
  await page.reload();
  await status;
  await expect(page.locator("#chat-toggle")).toBeHidden();
  await page.goto(`${server.baseURL}/settings`);
  const section = page.locator("#llm-section");
  await expect(section).toBeVisible();
  await expect(section).toContainText("The assistant is not available on this server");
  await expect(page.locator("#llm-form")).toHaveCount(0);
  const text = await page.locator("body").innerText();
  expect(text).not.toMatch(/LLM_|TODO_|environment variable|openssl/);
});

test("a model without a server-named model or an encryption key: the chat answers in plain words", async ({ page }) => {
  const own = await startServer({ LLM_BASE_URL: "http://127.0.0.1:9/v1" });
  try {
    await signUp(page, own.baseURL, "halfchat");
    await expect(page.locator("#chat-toggle")).toBeVisible();
    await page.locator("#chat-toggle").click();
    await page.getByLabel("Message").fill("What is due this week?");
    await page.getByRole("button", { name: "Send" }).click();
    const answer = page.locator("#chat-log li.assistant");
    await expect(answer).toContainText("The assistant cannot answer yet");
    await expect(answer).not.toContainText("LLM_");
    await page.goto(`${own.baseURL}/settings`);
    await expect(page.locator("#llm-section")).toContainText("This server cannot keep personal keys safely");
    const text = await page.locator("body").innerText();
    expect(text).not.toMatch(/LLM_|TODO_|environment variable|openssl/);
  } finally {
    await own.stop();
  }
});

test("Load more offline offers itself again, and loads once back online", async ({ page, context }) => {
  await signUp(page, server.baseURL, "more");
  const csrf = await page.locator("meta[name='csrf-token']").getAttribute("content");
  const tasks = Array.from({ length: 55 }, (_, n) => ({ title: `Row ${n}` }));
  const imported = await page.request.post(`${server.baseURL}/api/v1/import`, { data: { tasks }, headers: { "X-CSRF-Token": csrf } });
  expect(imported.status()).toBe(200);
  await page.reload();
  const more = page.locator("[data-more]");
  await expect(page.locator("#tasks > .task")).toHaveCount(50);
  await context.setOffline(true);
  await more.click();
  await expect(more).toHaveText("Load more");
  await expect(page.locator("body")).not.toContainText("Failed to fetch");
  await context.setOffline(false);
  await expect(page.locator("#offline")).toHaveCount(0);
  await more.click();
  await expect(page.locator("#tasks > .task")).toHaveCount(55);
});
