// Settings → Account in a real browser: two devices of one user (two browser contexts); the
// laptop lists both sessions and signs the phone out, changes the password (a wrong current
// password is refused in words; the phone is signed out again), then deletes the account with
// its password and lands on the login page, where the old password no longer works.
const fs = require("node:fs");
const path = require("node:path");
const { test, expect } = require("@playwright/test");
const { startServer } = require("./server");

const SHOTS = process.env.SCREENSHOT_DIR || path.join(__dirname, "../../target/screenshots");
fs.mkdirSync(SHOTS, { recursive: true });

let server;
test.beforeAll(async () => { server = await startServer(); });
test.afterAll(async () => { if (server) await server.stop(); });

const email = `acct${Date.now()}@example.com`;
const first = "correct horse battery";
const second = "a new long password";

async function logIn(page, password) {
  await page.goto(`${server.baseURL}/login`);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Log in" }).click();
}

const account = (page) => page.locator("#account");

test("account: sessions listed and signed out, password changed, account deleted", async ({ browser }) => {
  const contexts = await Promise.all([1, 2].map(() => browser.newContext()));
  const [laptop, phone] = await Promise.all(contexts.map((c) => c.newPage()));
  try {
    await laptop.goto(`${server.baseURL}/signup`);
    await laptop.getByLabel("Name").fill("Robin");
    await laptop.getByLabel("Email").fill(email);
    await laptop.getByLabel("Password").fill(first);
    await laptop.getByRole("button", { name: "Sign up" }).click();
    await expect(laptop).toHaveURL(`${server.baseURL}/`);
    await logIn(phone, first);
    await expect(phone).toHaveURL(`${server.baseURL}/`);

    // Two sessions: this browser marked, "Sign out" on the other.
    await laptop.goto(`${server.baseURL}/settings`);
    const rows = account(laptop).locator("table.sessions tbody tr");
    await expect(rows).toHaveCount(2);
    await expect(rows.first()).toContainText("This browser");
    await expect(rows.first().getByRole("button")).toHaveCount(0);
    await laptop.screenshot({ path: path.join(SHOTS, "account-desktop.png"), fullPage: false });
    await rows.nth(1).getByRole("button", { name: /^Sign out/ }).click();
    await expect(laptop.getByRole("status")).toContainText("Signed out that session");
    await expect(rows).toHaveCount(1);
    await phone.reload();
    await expect(phone).toHaveURL(`${server.baseURL}/login`);

    // The phone signs in again; a wrong current password is refused, then the change ends it.
    await logIn(phone, first);
    await expect(phone).toHaveURL(`${server.baseURL}/`);
    await laptop.getByLabel("Current password").fill("not my password");
    await laptop.getByLabel(/^New password/).fill(second);
    await laptop.getByRole("button", { name: "Change password" }).click();
    await expect(laptop.getByRole("alert")).toContainText("Current password is not the account's password");
    await laptop.getByLabel("Current password").fill(first);
    await laptop.getByLabel(/^New password/).fill(second);
    await laptop.getByRole("button", { name: "Change password" }).click();
    await expect(laptop.getByRole("status")).toContainText("Your other devices were signed out");
    await phone.reload();
    await expect(phone).toHaveURL(`${server.baseURL}/login`);
    await laptop.goto(`${server.baseURL}/`);
    await expect(laptop).toHaveURL(`${server.baseURL}/`);

    // At 375 px the section fits without scrolling sideways.
    await laptop.setViewportSize({ width: 375, height: 800 });
    await laptop.goto(`${server.baseURL}/settings#account`);
    const overflow = await laptop.evaluate(() => document.documentElement.scrollWidth - 375);
    expect(overflow).toBeLessThanOrEqual(0);
    await account(laptop).screenshot({ path: path.join(SHOTS, "account-phone.png") });
    await laptop.setViewportSize({ width: 1280, height: 800 });

    // Deleting asks for the password, then signs out to the login page.
    await account(laptop).getByText("Delete my account…").click();
    await laptop.getByLabel("Your password, to confirm").fill(first);
    await laptop.getByRole("button", { name: "Delete my account and its data" }).click();
    await expect(laptop.getByRole("alert")).toContainText("Password is not the account's password");
    await account(laptop).getByText("Delete my account…").click();
    await laptop.getByLabel("Your password, to confirm").fill(second);
    await laptop.getByRole("button", { name: "Delete my account and its data" }).click();
    await expect(laptop).toHaveURL(`${server.baseURL}/login?deleted=1`);
    await expect(laptop.getByRole("status")).toContainText("Your account and its data were deleted.");
    await logIn(laptop, second);
    await expect(laptop.getByRole("alert")).toBeVisible();
    await expect(laptop).toHaveURL(`${server.baseURL}/login`);
  } finally {
    await Promise.all(contexts.map((c) => c.close()));
  }
});
