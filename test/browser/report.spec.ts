import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { existsSync } from "node:fs";
import { chromium, expect, test, type Page } from "@playwright/test";
import { chromiumPath, gateTool } from "../system-tools.js";
import type { RunRecord } from "../../harness/record/schema.js";
import { renderHtml } from "../../reports/index.js";
import { failKill, hostile, HOSTILE_NAME, pass } from "../fixtures/records/index.js";

/**
 * Opens generated reports from file:// in Chromium with the network blocked: anything that
 * is not file: or data: is aborted and recorded, and the test asserts nothing tried to leave.
 */

let dir = "";
const reportUrl = (name: string): string => pathToFileURL(join(dir, name)).href;

// Debian's Chromium, or Playwright's own if one was installed; neither: skipped (failed under CI).
const noBrowser = gateTool(
  chromiumPath() !== undefined || existsSync(chromium.executablePath())
    ? null
    : "chromium not found; install Debian's chromium package: apt-get install chromium",
  "browser report tests",
);
test.skip(noBrowser, "no Chromium (see the line above)");

test.beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "faultline-browser-"));
  await writeFile(join(dir, "fail.html"), renderHtml(failKill));
  await writeFile(join(dir, "pass.html"), renderHtml(pass));
  await writeFile(join(dir, "hostile.html"), renderHtml(hostile));
});

test.afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Blocks the network and returns the list of every URL the page requested. */
async function offline(page: Page): Promise<{ requested: string[]; blocked: string[] }> {
  const requested: string[] = [];
  const blocked: string[] = [];
  page.on("request", (r) => requested.push(r.url()));
  await page.context().route("**/*", async (route) => {
    const url = route.request().url();
    if (url.startsWith("file:") || url.startsWith("data:")) return route.continue();
    blocked.push(url);
    return route.abort("blockedbyclient");
  });
  return { requested, blocked };
}

async function openReport(page: Page, name: string): Promise<{ requested: string[]; blocked: string[] }> {
  const net = await offline(page);
  await page.goto(reportUrl(name), { waitUntil: "load" });
  return net;
}

async function expectVerdict(page: Page, record: RunRecord, badge: string): Promise<void> {
  await expect(page.locator("#verdict")).toHaveAttribute("data-verdict", record.verdict);
  await expect(page.locator("#verdict .verdict-badge")).toHaveText(badge);
  const rows = page.locator("#slos tr[data-slo-id]");
  await expect(rows).toHaveCount(record.slos.length);
  for (const slo of record.slos) {
    const row = page.locator(`#slos tr[data-slo-id="${slo.id}"]`);
    await expect(row).toHaveAttribute("data-passed", String(slo.passed));
    await expect(row.locator(".badge")).toHaveText(slo.passed ? "PASS \u2713" : "FAIL \u2717");
    await expect(row).toBeVisible();
  }
}

test("the failed run's report loads offline and makes no network request", async ({ page }) => {
  const net = await openReport(page, "fail.html");
  expect(net.blocked).toEqual([]);
  expect(net.requested).toEqual([reportUrl("fail.html")]);
  await expectVerdict(page, failKill, "FAIL \u2717");
});

test("the headline shows availability and uptime at both levels, and each fault its three times", async ({
  page,
}) => {
  await openReport(page, "fail.html");
  // Both levels visible side by side in the rendered page, never one alone (#15).
  for (const [id, answered, full] of [
    ["availability", "96.667%", "90.667%"],
    ["uptime", "86.667%", "80.000%"],
  ] as const) {
    const answeredEl = page.locator(`#stat-${id} .level.answered`);
    const fullEl = page.locator(`#stat-${id} .level.full`);
    await expect(answeredEl).toHaveText(`answered ${answered}`);
    await expect(fullEl).toHaveText(`full service ${full}`);
    await expect(answeredEl).toBeVisible();
    await expect(fullEl).toBeVisible();
  }
  const kill = page.locator('#faults tr[data-fault-id="kill-worker"]');
  await expect(kill.locator(".ttd")).toHaveText("400 ms");
  await expect(kill.locator(".tta")).toHaveText("6.00 s");
  await expect(kill.locator(".ttf")).toHaveText("8.00 s");
  await expect(page.locator("#faults thead")).toContainText("Time to answer again");
  await expect(page.locator("#faults thead")).toContainText("Time to full service");
  // A fault without a detect time says why, beside the times.
  const slow = page.locator('#faults tr[data-fault-id="slow-api"] .detect-note');
  await expect(slow).toHaveText("the service gave no signal (no degraded or shed answer, no open breaker)");
  await expect(slow).toBeVisible();
});

test("every chart renders a non-empty SVG with its series in the legend", async ({ page }) => {
  await openReport(page, "fail.html");
  const expected: [string, string[]][] = [
    ["chart-rate", ["ok", "degraded", "shed", "error", "timeout", "conn"]],
    ["chart-latency", ["p50", "p95", "p99"]],
    ["chart-availability", ["good ratio"]],
    ["chart-target", ["breaker (worker)", "worker restarts"]],
  ];
  await expect(page.locator("figure.chart")).toHaveCount(expected.length);
  for (const [id, series] of expected) {
    const svg = page.locator(`#${id} svg`);
    const box = await svg.boundingBox();
    expect(box?.width ?? 0).toBeGreaterThan(900); // laid out at the page's width (1120 px max)
    expect(box?.height ?? 0).toBeGreaterThan(200);
    const texts = await svg.locator("text").allTextContents();
    for (const s of series) expect(texts).toContain(s);
    // Data is drawn: the series paths have geometry, not just axes.
    // (At least one long path per series: ECharts may draw an area and a line for one series.)
    const shapes = await Promise.all((await svg.locator("path").all()).map((p) => p.getAttribute("d")));
    const drawn = shapes.filter((d) => (d ?? "").split(/[ML]/).length > 20).length;
    expect(drawn).toBeGreaterThanOrEqual(series.length);
  }
});

test("each fault window is shaded, labelled and visible on every chart", async ({ page }) => {
  await openReport(page, "fail.html");
  for (const id of ["chart-rate", "chart-latency", "chart-availability", "chart-target"]) {
    const shades = page.locator(`#${id} svg [fill="rgb(214,39,40)"][fill-opacity="0.13"]`);
    await expect(shades).toHaveCount(2);
    // kill-worker spans t=10..16 s, slow-api t=18..24 s: both 6 s of the 30 s axis wide.
    // The plot is 912 of the chart's 1040 SVG units (grid margins 64 + 64).
    const axis = (await page.locator(`#${id} svg`).boundingBox())?.width ?? 0;
    for (const shade of await shades.all()) {
      const width = (await shade.boundingBox())?.width ?? 0;
      expect(Math.abs(width / axis - (6 / 30) * (912 / 1040))).toBeLessThan(0.01);
    }
    await expect(page.locator(`#${id} svg text`, { hasText: "kill-worker (process-kill)" })).toBeVisible();
    await expect(page.locator(`#${id} svg text`, { hasText: "slow-api (toxiproxy-latency)" })).toBeVisible();
  }
  await page.screenshot({ path: "test-results/playwright/report-fail.png", fullPage: true });
});

test("the passing run's report shows PASS and no fault shading", async ({ page }) => {
  const net = await openReport(page, "pass.html");
  expect(net.blocked).toEqual([]);
  await expectVerdict(page, pass, "PASS \u2713");
  await expect(page.locator('svg [fill="rgb(214,39,40)"]')).toHaveCount(0);
  await expect(page.locator("#chart-target-missing")).toBeVisible();
});

test("record strings with markup and script stay text: nothing runs, nothing loads", async ({ page }) => {
  const dialogs: string[] = [];
  page.on("dialog", async (d) => {
    dialogs.push(d.message());
    await d.dismiss();
  });
  const net = await openReport(page, "hostile.html");
  expect(net.blocked).toEqual([]);
  expect(net.requested).toEqual([reportUrl("hostile.html")]);
  expect(dialogs).toEqual([]);
  await expect(page.locator("script, img, iframe")).toHaveCount(0);
  await expect(page.locator("#verdict h1")).toHaveText(HOSTILE_NAME.replace("\u0001", "\uFFFD"));
});

test("prints: print media keeps the verdict, SLO table and charts", async ({ page }) => {
  await openReport(page, "fail.html");
  await page.emulateMedia({ media: "print" });
  await expect(page.locator("#verdict .verdict-badge")).toHaveText("FAIL \u2717");
  await expect(page.locator("#slos")).toBeVisible();
  await expect(page.locator("figure.chart svg")).toHaveCount(4);
  const pdf = await page.pdf({ format: "A4", printBackground: true });
  expect(pdf.subarray(0, 5).toString()).toBe("%PDF-");
  await page.screenshot({ path: "test-results/playwright/report-print.png", fullPage: false });
});
