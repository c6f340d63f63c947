// Connecting an app with OAuth, in a real browser: the login page on the way, the consent page
// (its form must be allowed by the page's CSP to go on to the app's redirect URI), and
// Settings → Connected apps disconnecting it. The app's side (registration, its callback, the
// code exchange) is played by the test.
const net = require("node:net");
const { test, expect } = require("@playwright/test");
const { startServer } = require("./server");

// RFC 7636 Appendix B.
const verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
const callback = "http://127.0.0.1:9/callback";
const password = "correct horse battery";

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
  // PUBLIC_URL must be the address the browser uses, so the port is chosen here.
  const port = await freePort();
  server = await startServer({ PORT: String(port), PUBLIC_URL: `http://127.0.0.1:${port}` });
});
test.afterAll(async () => {
  if (server) await server.stop();
});

test("an app connects after login and consent, and Settings disconnects it", async ({ page, request }) => {
  const email = `oauth${Date.now()}@example.com`;
  const signup = await request.post(`${server.baseURL}/api/v1/auth/signup`, { data: { email, password } });
  expect(signup.status()).toBe(201);
  const registered = await request.post(`${server.baseURL}/oauth/register`, {
    data: { client_name: "Browser test app", redirect_uris: [callback] },
  });
  expect(registered.status()).toBe(201);
  const { client_id: clientId } = await registered.json();

  // The app's redirect URI, answered here.
  let arrived;
  await page.route(`${callback}**`, (route) => {
    arrived = new URL(route.request().url());
    route.fulfill({ status: 200, contentType: "text/html", body: "<p>app connected</p>" });
  });

  const query = new URLSearchParams({
    response_type: "code",
    client_id: clientId,
    redirect_uri: callback,
    code_challenge: challenge,
    code_challenge_method: "S256",
    state: "s1",
    scope: "tasks:read tasks:write",
  });
  await page.goto(`${server.baseURL}/oauth/authorize?${query}`);
  await expect(page).toHaveURL(/\/login\?next=/);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Log in" }).click();

  await expect(page.getByRole("heading", { name: "Connect Browser test app?" })).toBeVisible();
  await expect(page.getByText(callback)).toBeVisible();
  // Give it less than it asks for: read only.
  await page.getByLabel(/add, change, complete and delete/).uncheck();
  await page.getByRole("button", { name: "Allow" }).click();
  await expect(page.getByText("app connected")).toBeVisible();
  expect(arrived.searchParams.get("state")).toBe("s1");
  expect(arrived.searchParams.get("iss")).toBe(server.baseURL);
  const code = arrived.searchParams.get("code");
  expect(code).toMatch(/^todo_ac_/);

  const tokens = await request.post(`${server.baseURL}/oauth/token`, {
    form: { grant_type: "authorization_code", code, redirect_uri: callback, client_id: clientId, code_verifier: verifier },
  });
  expect(tokens.status()).toBe(200);
  const { access_token: access, scope } = await tokens.json();
  expect(scope).toBe("tasks:read");
  const auth = { headers: { Authorization: `Bearer ${access}` } };
  expect((await request.get(`${server.baseURL}/api/v1/tasks`, auth)).status()).toBe(200);

  await page.goto(`${server.baseURL}/settings`);
  await expect(page.getByRole("cell", { name: /^Browser test app todo_client_/ })).toBeVisible();
  await expect(page.getByRole("cell", { name: "tasks:read", exact: true })).toBeVisible();
  await page.getByRole("button", { name: "Disconnect Browser test app" }).click();
  await expect(page.getByText("App disconnected")).toBeVisible();
  await expect(page.getByText("No connected apps.")).toBeVisible();
  expect((await request.get(`${server.baseURL}/api/v1/tasks`, auth)).status()).toBe(401);
});
