import { defineConfig } from "@playwright/test";
import { chromiumPath } from "./test/system-tools.js";

/**
 * Browser tests of the HTML report, in Debian's Chromium (apt-get install chromium), or
 * Playwright's own when Debian's is absent and `npx playwright install chromium` put one there;
 * nothing is downloaded by the tests. FAULTLINE_CHROMIUM overrides the path.
 */
const executablePath = chromiumPath();
export const CHROMIUM_LAUNCH = {
  ...(executablePath ? { executablePath } : {}),
  args: [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
};

export default defineConfig({
  testDir: "test/browser",
  outputDir: "test-results/playwright",
  timeout: 60_000,
  workers: 1,
  forbidOnly: !!process.env.CI,
  reporter: [["list"]],
  use: {
    browserName: "chromium",
    headless: true,
    viewport: { width: 1200, height: 900 },
    launchOptions: CHROMIUM_LAUNCH,
  },
});
