import { defineConfig } from "@playwright/test";

/**
 * Browser tests of the HTML report, in Debian's Chromium (apt-get install chromium); no
 * Playwright browser download. FAULTLINE_CHROMIUM overrides the path.
 */
export const CHROMIUM_LAUNCH = {
  executablePath: process.env.FAULTLINE_CHROMIUM ?? "/usr/bin/chromium",
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
