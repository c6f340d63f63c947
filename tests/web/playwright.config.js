// Browser tests of the web app: Playwright driving the system's Chromium (Debian `chromium`),
// never a downloaded browser. The server under test is the real `todo` binary (TODO_BIN) on a
// fresh SQLite file; see server.js. Screenshots go to SCREENSHOT_DIR (target/screenshots).
const { defineConfig } = require("@playwright/test");

module.exports = defineConfig({
  testDir: __dirname,
  testMatch: /.*\.spec\.js/,
  timeout: 60_000,
  expect: { timeout: 5_000 },
  fullyParallel: false,
  workers: 1,
  reporter: [["list"]],
  outputDir: process.env.PLAYWRIGHT_OUTPUT_DIR || "../../target/playwright",
  use: {
    browserName: "chromium",
    headless: true,
    launchOptions: {
      executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
      // As root (CI containers) Chromium refuses to start with its sandbox.
      args: process.getuid && process.getuid() === 0 ? ["--no-sandbox"] : [],
    },
    viewport: { width: 1280, height: 800 },
    timezoneId: "Europe/Paris",
    locale: "en-GB",
    trace: "off",
  },
});
