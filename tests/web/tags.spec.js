// Settings → Tags (counts, rename, colour from the palette, delete after asking; renaming onto
// another tag's name is refused with what was typed kept) and the searchable time-zone
// picker (a city finds its zone; an unknown zone is refused with nothing lost).
const { test, expect } = require("@playwright/test");
const { startServer } = require("./server");
const { signUp: signUpAt } = require("./signup");

let server;
test.beforeAll(async () => { server = await startServer(); });
test.afterAll(async () => { if (server) await server.stop(); });

const signUp = (page, who) => signUpAt(page, server.baseURL, { who });

async function quickAdd(page, text) {
  await page.getByLabel("New task").fill(text);
  await page.getByLabel("New task").press("Enter");
  await expect(page.getByLabel("New task")).toHaveValue("");
}

test("tags: listed with counts, renamed, coloured on the rows, a clash refused, deleted after asking", async ({ page }) => {
  await signUp(page, "tags");
  await quickAdd(page, "Buy milk #errands");
  await quickAdd(page, "Buy bread #errands #shop");
  await quickAdd(page, "Call mum #calls");

  await page.goto(`${server.baseURL}/settings`);
  await page.getByRole("link", { name: "Manage tags" }).click();
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Tags");
  const item = (name) => page.locator(".tag-item", { has: page.locator(".tag-summary .tag", { hasText: new RegExp(`^#${name}$`) }) });
  await expect(item("errands").locator(".tag-summary")).toContainText("2 tasks");
  await expect(item("calls").locator(".tag-summary")).toContainText("1 task");

  // Rename and colour.
  await page.getByLabel("Name of #errands").fill("shopping");
  await page.getByLabel("Colour of #errands").selectOption({ label: "Orange" });
  await page.getByRole("button", { name: "Save #errands" }).click();
  await expect(page.locator("p.notice")).toHaveText("Saved #shopping");
  await expect(item("shopping").locator(".tag-summary .tag")).toHaveClass(/tag-c-orange/);

  // The rows show the new name and the colour.
  await page.goto(`${server.baseURL}/`);
  const milk = page.locator("#tasks .task", { hasText: "Buy milk" });
  await expect(milk.locator(".tag")).toHaveText("#shopping");
  await expect(milk.locator(".tag")).toHaveClass(/tag-c-orange/);
  const orange = await milk.locator(".tag").evaluate((el) => getComputedStyle(el).color);
  const plain = await page.locator("#tasks .task", { hasText: "Call mum" }).locator(".tag").evaluate((el) => getComputedStyle(el).color);
  expect(orange).not.toBe(plain);

  // Renaming onto another tag's name: refused in words, the typed name kept.
  await page.goto(`${server.baseURL}/settings/tags`);
  await page.getByLabel("Name of #calls").fill("Shopping");
  await page.getByLabel("Colour of #calls").selectOption({ label: "Violet" });
  await page.getByRole("button", { name: "Save #calls" }).click();
  await expect(item("calls").getByRole("alert")).toHaveText("You already have a tag “#Shopping”: pick another name, or delete one of the two.");
  await expect(page.getByLabel("Name of #calls")).toHaveValue("Shopping");
  await expect(page.getByLabel("Colour of #calls")).toHaveValue("#884dff");

  // Delete: asks first, then takes the tag off its tasks, which stay.
  await item("shop").locator("summary").click();
  await expect(item("shop")).toContainText("This takes #shop off 1 task; the tasks stay.");
  await page.getByRole("button", { name: "Delete #shop" }).click();
  await expect(page.locator("p.notice")).toHaveText("Tag deleted");
  await expect(item("shop")).toHaveCount(0);
  await page.goto(`${server.baseURL}/`);
  await expect(page.locator("#tasks .task", { hasText: "Buy bread" }).locator(".tag")).toHaveText("#shopping");
});

test("time zone: the picker lists every zone, a city finds its zone, an unknown one is refused with nothing lost", async ({ page }) => {
  await signUp(page, "zone");
  await page.goto(`${server.baseURL}/settings`);
  const zone = page.getByLabel("Time zone");
  await expect(zone).toHaveAttribute("list", "zones");
  // The datalist offers every IANA zone, so typing "Paris" offers Europe/Paris.
  const offered = await page.locator("#zones option").evaluateAll((options) => options.map((o) => o.value));
  expect(offered.length).toBeGreaterThan(400);
  expect(offered.filter((z) => z.toLowerCase().includes("paris"))).toEqual(["Europe/Paris"]);

  // Unknown: refused, with the name and the zone as typed.
  await page.getByLabel("Name", { exact: true }).fill("Robin");
  await zone.fill("Atlantis");
  await page.getByRole("button", { name: "Save profile" }).click();
  await expect(page.getByRole("alert")).toContainText("“Atlantis” is not a time zone");
  await expect(zone).toHaveValue("Atlantis");
  await expect(page.getByLabel("Name", { exact: true })).toHaveValue("Robin");

  // A city: the question page names the zone it found, with the picker to change it.
  await zone.fill("new york");
  await page.getByRole("button", { name: "Save profile" }).click();
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Change your time zone?");
  await expect(page.getByLabel("New time zone")).toHaveValue("America/New_York");
  await page.getByLabel("New time zone").fill("Tokyo");
  await page.getByRole("button", { name: "Change time zone" }).click();
  await expect(page.locator("p.notice")).toHaveText("Profile saved");
  await expect(zone).toHaveValue("Asia/Tokyo");
  await expect(page.getByLabel("Name", { exact: true })).toHaveValue("Robin");
});
