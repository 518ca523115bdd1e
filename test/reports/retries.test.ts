import { describe, expect, it } from "vitest";
import type { RunRecord } from "../../harness/record/schema.js";
import { renderHtml, renderJunit, renderMarkdown } from "../../reports/index.js";
import { everyAttemptAvailability, retriesText } from "../../reports/retries.js";
import { checked } from "../fixtures/records/build.js";
import { aborted, failKill, pass, retried } from "../fixtures/records/index.js";
import { byId, elements, findAll, parseMarkup, textOf, type Node } from "./markup.js";

/**
 * A load that honoured Retry-After (record.retries) and a headline availability counting each
 * request by its final attempt (record.availability.attempts "final"). The retried fixture's
 * numbers are worked out in test/fixtures/records/retries.ts.
 */

const RETRIES_TEXT =
  "Client honoured Retry-After: 9 shed answers retried at the time named (wait p50 1.00 s, max 1.50 s); " +
  "retries answered: 6 ok, 1 degraded, 2 failed (1 shed, 1 timeout); " +
  "2 shed answers without a usable Retry-After; 1 retry not sent (due over 60 s after the load ended, or the run stopped first)";

const page = (record: RunRecord): Node => parseMarkup(renderHtml(record), true);
const withId = (doc: Node, id: string): Node[] => findAll(doc, (n) => n.attrs.id === id);

/** The retried record with other retries and the headline counting every attempt. */
function variant(retries: RunRecord["retries"], degradedCountsAsGood = true): RunRecord {
  const { attempts: _final, ...each } = retried.availability;
  return checked({
    ...retried,
    availability: { ...each, value: 195 / 209, degradedCountsAsGood },
    retries,
  });
}

describe("retries at Retry-After: HTML report", () => {
  const doc = page(retried);

  it("states what the retrying client did, with the raw counts as data attributes", () => {
    const p = byId(doc, "retries");
    expect(textOf(p)).toBe(`${RETRIES_TEXT}. Each retry is a request of its own in the totals and charts.`);
    expect(p.attrs).toEqual({
      id: "retries",
      "data-sent": "9",
      "data-ok": "6",
      "data-degraded": "1",
      "data-failed": "2",
      "data-without-retry-after": "2",
      "data-unsent": "1",
    });
  });

  it("says the headline availability counts final attempts, with the every-attempt figure beside it", () => {
    const stat = byId(doc, "stat-availability");
    expect(elements(stat).map(textOf)).toEqual([
      "Availability",
      // Both levels; this record predates them (counted with fallbacks), so full is n/a.
      "answered 97.500% full service n/a",
      "each request by its final attempt; every attempt: 93.301%",
    ]);
    // 195 good of 200 final attempts; 195 good of all 209 rows.
    expect([stat.attrs["data-value"], stat.attrs["data-attempts"]]).toEqual(["0.975", "final"]);
    expect(Number(stat.attrs["data-every-attempt"])).toBe(195 / 209);
    // Requests counts every row, retries included.
    expect(textOf(byId(doc, "stat-requests"))).toBe("Requests 209");
  });

  it("reads the retry-after SLO like any other ratio SLO", () => {
    const row = findAll(byId(doc, "slos"), (n) => n.attrs["data-slo-id"] === "retry-after")[0];
    expect(elements(row).map(textOf)).toEqual([
      "retries at Retry-After answered good >= 90% (7 of 11)",
      "FAIL \u2717",
      "63.636%",
      ">= 90.000%",
      "-26.364 pp",
    ]);
  });

  it("shows nothing of it for records without the fields", () => {
    for (const record of [pass, failKill, aborted]) {
      const d = page(record);
      expect(withId(d, "retries")).toEqual([]);
      const stat = byId(d, "stat-availability");
      expect(elements(stat).length).toBe(2);
      expect(stat.attrs["data-attempts"]).toBe(undefined);
      expect(renderHtml(record)).not.toMatch(/Retry-After|final attempt/);
    }
  });

  it("keeps the headline as before when retries counted as every attempt", () => {
    const d = page(variant(retried.retries));
    expect(textOf(byId(d, "stat-availability"))).toBe("Availability answered 93.301% full service n/a");
    expect(textOf(byId(d, "retries"))).toBe(
      `${RETRIES_TEXT}. Each retry is a request of its own in the totals and charts.`,
    );
  });
});

describe("retries at Retry-After: text", () => {
  it("uses the singular for one and leaves out the waits when nothing was retried", () => {
    const none = variant({
      sent: 0,
      outcomes: { ok: 0, degraded: 0, shed: 0, error: 0, timeout: 0, conn: 0 },
      withoutRetryAfter: 1,
      unsent: 0,
      retryAfterMs: { count: 0, p50: null, p95: null, p99: null, max: null },
    });
    expect(retriesText(none)).toBe(
      "Client honoured Retry-After: 0 shed answers retried at the time named; retries answered: 0 ok, 0 degraded, 0 failed; " +
        "1 shed answer without a usable Retry-After; 0 retries not sent (due over 60 s after the load ended, or the run stopped first)",
    );
    const one = variant({
      sent: 1,
      outcomes: { ok: 0, degraded: 0, shed: 0, error: 0, timeout: 0, conn: 1 },
      withoutRetryAfter: 0,
      unsent: 2,
      retryAfterMs: { count: 1, p50: 250, p95: 250, p99: 250, max: 250 },
    });
    expect(retriesText(one)).toBe(
      "Client honoured Retry-After: 1 shed answer retried at the time named (wait p50 250 ms, max 250 ms); " +
        "retries answered: 0 ok, 0 degraded, 1 failed (1 conn); 0 shed answers without a usable Retry-After; " +
        "2 retries not sent (due over 60 s after the load ended, or the run stopped first)",
    );
    expect(retriesText(pass)).toBe(null);
  });

  it("counts every attempt the way the headline counts degraded answers", () => {
    expect(everyAttemptAvailability(retried)).toBe(195 / 209);
    // Degraded as down: the one degraded retry is bad too.
    expect(everyAttemptAvailability(variant(retried.retries, false))).toBe(194 / 209);
  });
});

describe("retries at Retry-After: Markdown summary", () => {
  it("adds one line on the retries and the availability basis under the run", () => {
    expect(renderMarkdown([retried]).split("\n").slice(4)).toEqual([
      "| overload-retry | \u274c fail | 1/2 | 97.500% | n/a | 270 ms | \u2013 | \u2013 | `20261123T150000Z-overload-retry` |",
      "",
      "**overload-retry** (\u274c fail):",
      `- ${RETRIES_TEXT}. Availability counts each request by its final attempt; every attempt: 93.301%.`,
      "- retries at Retry-After answered good \\>= 90% (7 of 11): measured 63.636%, bound \\>= 90.000%, missed by 26.364 pp",
      "",
    ]);
  });

  it("gives a passing run with retries its line too, and a run without them none", () => {
    const passing = checked({
      ...variant(retried.retries),
      verdict: "pass",
      slos: retried.slos.filter((s) => s.passed),
    });
    expect(renderMarkdown([passing, pass]).split("\n").slice(6)).toEqual([
      "",
      "**overload-retry** (\u2705 pass):",
      `- ${RETRIES_TEXT}.`,
      "",
    ]);
    expect(renderMarkdown([pass, failKill, aborted])).not.toMatch(/Retry-After|final attempt/);
  });
});

describe("retries at Retry-After: JUnit properties", () => {
  const props = (record: RunRecord): [string, string][] => {
    const suite = elements(elements(parseMarkup(renderJunit([record])))[0])[0];
    const list = elements(suite).find((c) => c.name === "properties");
    return (list ? elements(list) : []).map((p) => [p.attrs.name ?? "", p.attrs.value ?? ""]);
  };

  it("adds the retry counts and the availability basis after the run's properties", () => {
    // After the two levels side by side (full not recorded in this older record: "").
    expect(props(retried).slice(6)).toEqual([
      ["availability.answered", "0.975"],
      ["availability.full", ""],
      ["uptime.answered", "0.75"],
      ["uptime.full", ""],
      ["availability.attempts", "final"],
      ["retries.sent", "9"],
      ["retries.ok", "6"],
      ["retries.degraded", "1"],
      ["retries.failed", "2"],
      ["retries.withoutRetryAfter", "2"],
      ["retries.unsent", "1"],
      ["retries.retryAfterMs.p50", "1000"],
      ["retries.retryAfterMs.max", "1500"],
    ]);
  });

  it("adds none for a record without the fields", () => {
    // The level properties are on every run (both levels side by side); no retry ones.
    expect(props(pass).map(([name]) => name)).toEqual([
      "run.id",
      "run.verdict",
      "run.status",
      "scenario.file",
      "scenario.seed",
      "target",
      "availability.answered",
      "availability.full",
      "uptime.answered",
      "uptime.full",
    ]);
  });
});
