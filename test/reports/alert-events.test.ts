import { describe, expect, it } from "vitest";
import { runRecordSchema, type RunRecord } from "../../harness/record/schema.js";
import { renderHtml, renderMarkdown } from "../../reports/index.js";
import { failKill } from "../fixtures/records/index.js";
import { byId, parseMarkup, textOf } from "./markup.js";

const alert = (tMs: number, status: "firing" | "resolved"): RunRecord["events"][number] => ({
  tMs,
  kind: "alert",
  message: `${status}: BreakerOpen (warning) backend=worker: circuit breaker worker is open`,
  alert: {
    name: "BreakerOpen",
    status,
    severity: "warning",
    labels: { alertname: "BreakerOpen", severity: "warning", backend: "worker" },
    startsAt: "2026-01-01T00:00:02.400Z",
    endsAt: status === "firing" ? null : "2026-01-01T00:00:05.800Z",
  },
});

const record: RunRecord = {
  ...failKill,
  events: [...failKill.events, alert(2400, "firing"), alert(5800, "resolved")],
};

describe("alerts in the reports", () => {
  it("a record with alert events is valid, and its events list and Markdown summary show them", () => {
    expect(runRecordSchema.safeParse(record).success).toBe(true);
    const events = textOf(byId(parseMarkup(renderHtml(record), true), "events"));
    expect(events).toContain(
      "t+2.40 s alert firing: BreakerOpen (warning) backend=worker: circuit breaker worker is open",
    );
    expect(events).toContain("t+5.80 s alert resolved: BreakerOpen (warning)");
    const md = renderMarkdown([record]);
    expect(md).toContain(
      "- alert at 2.40 s: firing: BreakerOpen (warning) backend=worker: circuit breaker worker is open",
    );
    expect(md).toContain("- alert at 5.80 s: resolved: BreakerOpen (warning)");
  });
});
