// Signing up through the page's form, as every spec starts.
const { expect } = require("@playwright/test");

const PASSWORD = "correct horse battery";
let counter = 0;

// Signs up at `baseURL` and lands on Today. Returns the address used: `email`, or a fresh one
// made from `who`. `name` fills the optional Name field.
async function signUp(page, baseURL, { who = "web", email, name } = {}) {
  const address = email ?? `${who}${Date.now()}${counter++}@example.com`;
  await page.goto(`${baseURL}/signup`);
  if (name !== undefined) await page.getByLabel("Name").fill(name);
  await page.getByLabel("Email").fill(address);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign up" }).click();
  await expect(page).toHaveURL(`${baseURL}/`);
  return address;
}

module.exports = { PASSWORD, signUp };
