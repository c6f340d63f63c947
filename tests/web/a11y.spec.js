// Accessibility: axe-core (vendored from npm, pinned in package-lock.json) on the main pages
// and the OAuth consent and error pages, light and dark, fails on any violation (WCAG 2.x A
// and AA, and axe's best practices, among them one level-one heading per page). axe is
// injected into the page, so the context bypasses the page's CSP (the page itself allows no
// inline script).
const net = require("node:net");
const path = require("node:path");
const { test, expect } = require("@playwright/test");
const { startServer } = require("./server");

const AXE = path.join(path.dirname(require.resolve("axe-core")), "axe.min.js");

// OAuth (the consent page) needs PUBLIC_URL to be the address the browser uses.
function freePort() {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

let server;
test.beforeAll(async () => {
  const port = await freePort();
  server = await startServer({ PORT: String(port), PUBLIC_URL: `http://127.0.0.1:${port}` });
});
test.afterAll(async () => { if (server) await server.stop(); });

const day = (offset) => new Date(Date.now() + offset * 86_400_000).toLocaleDateString("en-CA", { timeZone: "Europe/Paris" });

async function axe(page, label) {
  await page.addScriptTag({ path: AXE });
  const result = await page.evaluate(() => window.axe.run(document, {
    runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"] },
  }));
  const found = result.violations.map((v) => `${label}: ${v.id} (${v.impact}) ${v.help}\n    ${v.nodes.slice(0, 4).map((n) => `${n.target.join(" ")} — ${n.failureSummary.split("\n").slice(1, 2).join("").trim()}`).join("\n    ")}`);
  return found;
}

async function api(page, method, url, data) {
  const csrf = await page.locator("meta[name='csrf-token']").getAttribute("content");
  const response = await page.request.fetch(`${server.baseURL}${url}`, { method, data, headers: { "X-CSRF-Token": csrf } });
  expect(response.ok()).toBeTruthy();
  return response.status() === 204 ? null : response.json();
}

for (const colorScheme of ["light", "dark"]) {
  test(`axe finds no violations on the main pages (${colorScheme})`, async ({ browser }) => {
    test.setTimeout(120_000);
    const context = await browser.newContext({ colorScheme, bypassCSP: true });
    const page = await context.newPage();
    const violations = [];
    const check = async (url, label, heading) => {
      if (url) await page.goto(`${server.baseURL}${url}`);
      if (heading) await expect(page.getByRole("heading", { level: 1 })).toHaveText(heading);
      violations.push(...(await axe(page, label)));
    };

    await check("/login", "login", "Log in to todo");
    await check("/forgot-password", "forgot password", "Forgot your password?");
    await check("/reset?token=abc", "reset password", "Choose a new password");
    await check("/signup", "signup", "Create a todo account");
    await page.getByLabel("Name").fill("Robin Smith");
    await page.getByLabel("Email").fill(`a11y-${colorScheme}${Date.now()}@example.com`);
    await page.getByLabel("Password").fill("correct horse battery");
    await page.getByRole("button", { name: "Sign up" }).click();
    await expect(page).toHaveURL(`${server.baseURL}/`);

    const work = await api(page, "POST", "/api/v1/projects", { name: "Work", color: "#4073ff" });
    const section = await api(page, "POST", `/api/v1/projects/${work.id}/sections`, { name: "Sprint" });
    const tasks = [
      { title: "Renew the passport", priority: "urgent", due_date: day(-2), tags: ["admin"] },
      { title: "Pay the bill", priority: "high", due_date: day(0), tags: ["bills"] },
      { title: "Review the report", priority: "medium", due_local: `${day(1)}T14:00:00`, project_id: work.id, section_id: section.id },
      { title: "Water the plants", priority: "low", due_date: day(3), recurrence: "FREQ=WEEKLY", tags: ["home"] },
      { title: "Update the CV", due_date: day(45), project_id: work.id, description: "The new job first" },
    ];
    let report;
    for (const t of tasks) {
      const made = await api(page, "POST", "/api/v1/tasks", t);
      if (t.title === "Review the report") report = made;
    }
    await api(page, "POST", "/api/v1/tasks", { title: "Sub of the report", parent_id: report.id });
    for (const tag of await api(page, "GET", "/api/v1/tags")) {
      await api(page, "PATCH", `/api/v1/tags/${tag.id}`, { color: { admin: "#884dff", bills: "#db4035", home: "#fad000" }[tag.name] });
    }
    const sam = `sam-${colorScheme}${Date.now()}@example.com`;
    await api(page, "POST", `/api/v1/projects/${work.id}/invitations`, { email: sam, role: "viewer" });

    await check("/", "inbox with tasks", "Open tasks");
    await check("/?view=today", "today", "Today");
    await check("/?view=upcoming", "upcoming", "Upcoming");
    await check("/?view=completed", "done", "Done");
    await check(`/projects/${work.id}`, "a project", "Work");
    await check(`/projects/${work.id}?share=open#share`, "share panel open");
    await expect(page.locator("details.share")).toHaveAttribute("open", "");
    await check(`/projects/${work.id}/activity`, "activity", "Activity in Work");
    await check(`/tasks/${report.id}/edit`, "edit", "Edit task");
    await check(`/tasks/${report.id}/move`, "move", "Move “Review the report”");
    await check("/invitations", "invitations", "Invitations");
    await check("/settings", "settings", "Settings");
    await check("/settings/tags", "settings: tags", "Tags");
    // The zone question, after choosing another zone.
    await page.goto(`${server.baseURL}/settings`);
    await page.getByLabel("Time zone").fill("America/New_York");
    await page.getByRole("button", { name: "Save profile" }).click();
    await check(null, "zone question", "Change your time zone?");
    await check("/tasks/999999/edit", "not found", "Not found");
    // OAuth: the consent page an app's sign-in shows, and the page for an app that cannot connect.
    const registered = await page.request.post(`${server.baseURL}/oauth/register`, {
      data: { client_name: "Axe test app", redirect_uris: ["http://127.0.0.1:9/callback"] },
    });
    expect(registered.status()).toBe(201);
    const { client_id: clientId } = await registered.json();
    const query = new URLSearchParams({
      response_type: "code", client_id: clientId, redirect_uri: "http://127.0.0.1:9/callback",
      code_challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", code_challenge_method: "S256",
      state: "s1", scope: "tasks:read",
    });
    await check(`/oauth/authorize?${query}`, "consent", "Connect Axe test app?");
    query.set("client_id", "no-such-app");
    await check(`/oauth/authorize?${query}`, "oauth error", "This app cannot connect");
    await context.close();

    // A viewer: the invitations page with one waiting, then the 403 page of a task's Move page.
    const viewerContext = await browser.newContext({ colorScheme, bypassCSP: true });
    const viewer = await viewerContext.newPage();
    await viewer.goto(`${server.baseURL}/signup`);
    await viewer.getByLabel("Email").fill(sam);
    await viewer.getByLabel("Password").fill("correct horse battery");
    await viewer.getByRole("button", { name: "Sign up" }).click();
    await expect(viewer).toHaveURL(`${server.baseURL}/`);
    await viewer.goto(`${server.baseURL}/invitations`);
    await expect(viewer.getByRole("heading", { level: 1 })).toHaveText("Invitations");
    violations.push(...(await axe(viewer, "invitations waiting")));
    await viewer.getByRole("button", { name: "Accept: Work" }).click();
    await expect(viewer.getByRole("heading", { level: 1 })).toHaveText("Work");
    violations.push(...(await axe(viewer, "a project as a viewer")));
    const forbidden = await viewer.goto(`${server.baseURL}/tasks/${report.id}/move`);
    expect(forbidden.status()).toBe(403);
    await expect(viewer.getByRole("heading", { level: 1 })).toHaveText("Not allowed");
    violations.push(...(await axe(viewer, "403")));
    await viewerContext.close();
    expect(violations, violations.join("\n")).toEqual([]);
  });
}
