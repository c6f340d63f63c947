// Sharing in the web app with three real users in three browser contexts: Olive shares a
// project with Eddie (editor) and Vera (viewer, invited before she has an account); Eddie
// assigns a task to himself (Olive sees it live) and finds it under "Assigned to me"; Vera
// comments but cannot edit; Olive reads the activity; Eddie leaves and loses access at once.
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

const stamp = Date.now();
const emails = {
  olive: `olive${stamp}@example.com`,
  eddie: `eddie${stamp}@example.com`,
  vera: `vera${stamp}@example.com`,
};

const signUp = (page, name, email) => signUpAt(page, server.baseURL, { name, email });

const sidebar = (page) => page.locator("#sidebar");
const sideLink = (page, name) => sidebar(page).locator(".side-link", { has: page.locator(".side-name", { hasText: new RegExp(`^${name}$`) }) });
const row = (page, title) => page.locator(".task", { has: page.locator(".title", { hasText: new RegExp(`^${title}$`) }) });

async function accept(page, from) {
  await page.reload();
  await expect(sideLink(page, "Invitations").locator(".side-count")).toHaveText("1");
  await sideLink(page, "Invitations").click();
  await expect(page.locator("main")).toContainText(`${from}`);
  await expect(page.locator("main")).toContainText("invited you to Household");
  await page.getByRole("button", { name: "Accept: Household" }).click();
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Household");
}

test("an owner shares a project with an editor and a viewer: assignees, comments, activity, leaving", async ({ browser }) => {
  const contexts = await Promise.all([1, 2, 3].map(() => browser.newContext()));
  const [olive, eddie, vera] = await Promise.all(contexts.map((c) => c.newPage()));
  try {
    await signUp(olive, "Olive Owner", emails.olive);
    await signUp(eddie, "Eddie Editor", emails.eddie);

    // Olive makes the project, two tasks, and invites Eddie and Vera (who has no account yet).
    await sidebar(olive).getByText("Add project", { exact: true }).first().click();
    await sidebar(olive).getByLabel("Project name").fill("Household");
    await sidebar(olive).getByRole("button", { name: "Add project" }).click();
    await expect(olive.getByRole("heading", { level: 1 })).toHaveText("Household");
    for (const title of ["Buy bread", "Fix the tap"]) {
      await olive.getByLabel("Add a task to Household", { exact: true }).fill(title);
      await olive.getByLabel("Add a task to Household", { exact: true }).press("Enter");
      await expect(row(olive, title)).toBeVisible();
    }
    await olive.locator("#share > summary").click();
    for (const [email, role] of [[emails.eddie, "editor"], [emails.vera, "viewer"]]) {
      await olive.getByLabel("Invite by email").fill(email);
      await olive.locator("#invite-role").selectOption(role);
      await olive.getByRole("button", { name: "Invite", exact: true }).click();
      await expect(olive.locator("#share")).toHaveAttribute("open", "");
      await expect(olive.locator(".invited")).toContainText(email);
    }
    // Inviting a second time is refused in the panel, the address kept.
    await olive.getByLabel("Invite by email").fill(emails.eddie);
    await olive.getByRole("button", { name: "Invite", exact: true }).click();
    await expect(olive.locator("#share-error")).toBeVisible();
    await expect(olive.getByLabel("Invite by email")).toHaveValue(emails.eddie);

    await accept(eddie, "Olive Owner");
    await signUp(vera, "Vera Viewer", emails.vera);
    await accept(vera, "Olive Owner");

    await sideLink(olive, "Household").click();
    await olive.locator("#share > summary").click();
    await expect(olive.locator("#share")).toHaveAttribute("open", "");
    await expect(olive.locator(".member", { hasText: "Eddie Editor" }).getByLabel("Role of Eddie Editor")).toHaveValue("editor");
    await expect(olive.locator(".member", { hasText: "Vera Viewer" }).getByLabel("Role of Vera Viewer")).toHaveValue("viewer");
    await expect(olive.locator(".invited")).toHaveCount(0);
    await expect(sideLink(olive, "Household").locator(".shared-mark")).toBeVisible();
    await olive.screenshot({ path: path.join(SHOTS, "share-desktop.png") });
    // On a phone the open panel fits 375 px.
    await olive.setViewportSize({ width: 375, height: 780 });
    const overflow = await olive.evaluate(() => document.documentElement.scrollWidth - 375);
    expect(overflow, "no horizontal scrolling").toBeLessThanOrEqual(0);
    await olive.screenshot({ path: path.join(SHOTS, "share-phone.png"), fullPage: true });
    await olive.setViewportSize({ width: 1280, height: 800 });
    await olive.locator("#share > summary").click();

    // Eddie assigns "Buy bread" to himself; Olive's open page shows his initials live.
    await expect(row(eddie, "Buy bread")).toBeVisible();
    await row(eddie, "Buy bread").getByRole("link", { name: "Edit details: Buy bread" }).click();
    await eddie.getByLabel("Assigned to").selectOption({ label: "Eddie Editor" });
    await eddie.getByRole("button", { name: "Save", exact: true }).click();
    await expect(row(eddie, "Buy bread").locator(".assignee")).toContainText("EE");
    await expect(row(olive, "Buy bread").locator(".assignee")).toContainText("EE");
    await sideLink(eddie, "Assigned to me").click();
    await expect(row(eddie, "Buy bread")).toBeVisible();
    await expect(row(eddie, "Fix the tap")).toHaveCount(0);
    await expect(sideLink(eddie, "Assigned to me")).toHaveAttribute("aria-current", "page");

    // Vera reads and comments, and cannot edit: no check box, delete or add; the server
    // refuses a forged edit with the 403 page.
    await sideLink(vera, "Household").click();
    await expect(row(vera, "Buy bread")).toHaveAttribute("data-readonly", "");
    await expect(row(vera, "Buy bread").getByRole("button", { name: "Done: Buy bread" })).toHaveCount(0);
    await expect(vera.getByRole("button", { name: "Delete: Buy bread" })).toHaveCount(0);
    await expect(vera.getByLabel("Add a task to Household", { exact: true })).toHaveCount(0);
    await row(vera, "Buy bread").locator(".title").click();
    await expect(vera.getByRole("heading", { level: 1 })).toHaveText("Buy bread");
    await expect(vera.locator("#readonly-note")).toBeVisible();
    await expect(vera.getByLabel("Title")).toHaveCount(0);
    await vera.getByLabel("Add a comment").fill("Wholemeal, please");
    await vera.getByRole("button", { name: "Comment", exact: true }).click();
    await expect(vera.locator(".comment", { hasText: "Wholemeal, please" })).toContainText("Vera Viewer");
    await vera.screenshot({ path: path.join(SHOTS, "task-comments-viewer-desktop.png") });
    const csrf = await vera.locator('meta[name="csrf-token"]').getAttribute("content");
    const id = (await vera.url()).match(/tasks\/(\d+)/)[1];
    const forged = await vera.request.post(`${server.baseURL}/tasks/${id}`, {
      form: { _csrf: csrf, title: "Vera was here" },
      headers: { Origin: server.baseURL },
    });
    expect(forged.status()).toBe(403);
    expect(await forged.text()).toContain("Not allowed");

    // Olive sees the comment, and Vera's next one arrives live on her open page; then the
    // activity, newest first.
    await olive.goto(`${server.baseURL}${new URL(vera.url()).pathname}`);
    await expect(olive.locator(".comment")).toContainText("Wholemeal, please");
    await expect(olive.locator("#comments")).toHaveAttribute("data-live", "open");
    await vera.getByLabel("Add a comment").fill("Two loaves");
    await vera.getByRole("button", { name: "Comment", exact: true }).click();
    await expect(vera.locator(".comment", { hasText: "Two loaves" })).toBeVisible();
    await expect(olive.locator(".comment", { hasText: "Two loaves" })).toContainText("Vera Viewer");
    await expect(olive.locator("#comments-head")).toHaveText("Comments (2)");
    await sideLink(olive, "Household").click();
    await olive.getByRole("link", { name: "Activity" }).click();
    await expect(olive.getByRole("heading", { level: 1 })).toHaveText("Activity in Household");
    const entries = olive.locator(".activity-entry");
    await expect(entries.first()).toContainText("Vera Viewer commented on “Buy bread”");
    await expect(olive.locator("#activity")).toContainText("Eddie Editor changed “Buy bread”");
    await expect(entries.last()).toContainText("Olive Owner added “Buy bread”");
    await olive.screenshot({ path: path.join(SHOTS, "activity-desktop.png") });

    // Eddie leaves and loses the project at once.
    await sideLink(eddie, "Household").click();
    await eddie.locator("#share > summary").click();
    await eddie.getByText("Leave project…").click();
    await eddie.getByRole("button", { name: "Leave “Household”" }).click();
    await expect(eddie).toHaveURL(`${server.baseURL}/`);
    await expect(sideLink(eddie, "Household")).toHaveCount(0);
    const gone = await eddie.goto(`${server.baseURL}${new URL(olive.url()).pathname.replace("/activity", "")}`);
    expect(gone.status()).toBe(404);
  } finally {
    await Promise.all(contexts.map((c) => c.close()));
  }
});
