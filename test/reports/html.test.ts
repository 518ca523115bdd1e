import { describe, expect, it } from "vitest";
import { renderHtml } from "../../reports/index.js";
import { aborted, failKill, hostile, HOSTILE_NAME, pass, voided } from "../fixtures/records/index.js";
import { byId, elements, findAll, parseMarkup, textOf, type Node } from "./markup.js";

const page = (html: string): Node => parseMarkup(html, true);
const failHtml = renderHtml(failKill);
const failDoc = page(failHtml);

function cells(row: Node): string[] {
  return elements(row).map(textOf);
}

describe("HTML report: verdict and SLOs", () => {
  it("shows the verdict as a word and symbol, with the record's status", () => {
    const v = byId(failDoc, "verdict");
    expect(v.attrs["data-verdict"]).toBe("fail");
    expect(v.attrs["data-status"]).toBe("completed");
    expect(textOf(elements(v)[0])).toBe("FAIL \u2717");
    expect(textOf(findAll(v, (n) => n.name === "h1")[0])).toBe("worker-kill");
  });

  it("lists every SLO with measured value, bound and margin worked out by hand", () => {
    const rows = findAll(byId(failDoc, "slos"), (n) => n.attrs["data-slo-id"] !== undefined);
    expect(rows.map((r) => [r.attrs["data-slo-id"], r.attrs["data-passed"], ...cells(r)])).toEqual([
      ["availability", "false", "availability >= 99.9%", "FAIL \u2717", "96.667%", ">= 99.900%", "-3.233 pp"],
      ["latency-p99", "true", "p99 <= 500ms", "PASS \u2713", "480 ms", "<= 500 ms", "+20 ms"],
      [
        "recover-kill-worker",
        "false",
        "recover(kill-worker) <= 5s fault kill-worker",
        "FAIL \u2717",
        "6.00 s",
        "<= 5.00 s",
        "-1.00 s",
      ],
      ["uptime", "true", "uptime >= 80%", "PASS \u2713", "86.667%", ">= 80.000%", "+6.667 pp"],
    ]);
    // The raw numbers travel in data attributes, exactly as recorded.
    const avail = rows[0];
    expect(Number(avail.attrs["data-measured"])).toBe(290 / 300);
    expect(Number(avail.attrs["data-bound"])).toBe(0.999);
    expect(Number(avail.attrs["data-margin"])).toBe(290 / 300 - 0.999);
    expect(byId(failDoc, "slos").attrs["data-missed"]).toBe("2");
  });

  it("shows the headline numbers and the error budget burn", () => {
    const stat = (id: string): string => textOf(byId(failDoc, `stat-${id}`));
    // Both service levels side by side, never one alone (#15): answered counts the 18 fallback
    // answers, full service does not (fixture: 290/300 and 272/300; windows 26/30 and 24/30).
    expect(stat("availability")).toBe("Availability answered 96.667% full service 90.667%");
    expect(stat("uptime")).toBe("Uptime (1.00 s windows) answered 86.667% full service 80.000%");
    const avail = byId(failDoc, "stat-availability");
    expect([avail.attrs["data-answered"], avail.attrs["data-full"]]).toEqual([
      String(290 / 300),
      String(272 / 300),
    ]);
    expect([stat("p50"), stat("p95"), stat("p99")]).toEqual(["P50 40 ms", "P95 300 ms", "P99 480 ms"]);
    expect(stat("requests")).toBe("Requests 300");
    // 10 bad requests against a budget of 0.001 x 300 = 0.3 requests.
    expect(stat("burn")).toBe("Error budget burn (10 bad) 3333.3%");
  });

  it("states the projected monthly availability and its probability of meeting the SLO", () => {
    const p = byId(failDoc, "projection");
    expect([p.attrs["data-mean"], p.attrs["data-p5"], p.attrs["data-probability"]]).toEqual([
      "0.99998",
      "0.99996",
      "0.97",
    ]);
    expect(textOf(p)).toContain(
      "Projected monthly availability 99.998% (5th percentile 99.996%); probability of meeting the 99.900% SLO in a month: 97.0%",
    );
  });

  it("leaves out downtime when the record predates it", () => {
    expect(findAll(failDoc, (n) => n.attrs.id === "downtime").length).toBe(0);
  });

  it("explains a missing projection instead of showing zeros", () => {
    const p = byId(page(renderHtml(pass)), "projection");
    expect(p.attrs["data-present"]).toBe("false");
  });

  it("shows aborted and void runs as neither pass nor fail, with the reason", () => {
    const a = byId(page(renderHtml(aborted)), "verdict");
    expect([a.attrs["data-verdict"], textOf(elements(a)[0])]).toEqual(["aborted", "ABORTED !"]);
    expect(textOf(findAll(a, (n) => n.attrs.class === "reason")[0])).toBe(
      "max in-flight (256) reached for 3 s: target stalled",
    );
    const v = byId(page(renderHtml(voided)), "verdict");
    expect([v.attrs["data-verdict"], textOf(elements(v)[0])]).toEqual(["void", "VOID \u2013"]);
  });
});

describe("HTML report: charts", () => {
  const figures = findAll(byId(failDoc, "charts"), (n) => n.name === "figure");

  it("renders the four charts as inline SVG with the expected series", () => {
    expect(figures.map((f) => [f.attrs.id, f.attrs["data-series"]])).toEqual([
      ["chart-rate", "ok,degraded,shed,error,timeout,conn"],
      ["chart-latency", "p50,p95,p99"],
      ["chart-availability", "good ratio"],
      ["chart-target", "breaker (worker),worker restarts"],
    ]);
    for (const f of figures) {
      const svg = findAll(f, (n) => n.name === "svg");
      expect(svg.length).toBe(1);
      // The legend names the series, so the SVG text must contain each of them.
      const texts = findAll(svg[0], (n) => n.name === "text").map(textOf);
      for (const s of (f.attrs["data-series"] ?? "").split(",")) expect(texts).toContain(s);
    }
  });

  it("labels each fault window and its detect and recover marks on every chart", () => {
    for (const f of figures) {
      const texts = findAll(f, (n) => n.name === "text").map(textOf);
      expect(texts.filter((t) => t === "kill-worker (process-kill)").length).toBe(1);
      expect(texts.filter((t) => t === "slow-api (toxiproxy-latency)").length).toBe(1);
      // Detected only for the kill (the toxic was never detected); both recovered.
      expect(texts.filter((t) => /^(detect|recover) /.test(t)).sort()).toEqual([
        "detect kill-worker",
        "recover kill-worker",
        "recover slow-api",
      ]);
    }
  });

  it("shades fault windows with the fault colour, one area per fault", () => {
    for (const f of figures) {
      const shaded = findAll(
        f,
        (n) => n.attrs.fill === "rgb(214,39,40)" && n.attrs["fill-opacity"] === "0.13",
      );
      expect(shaded.length).toBe(2);
    }
  });

  it("omits the service chart, with a note, when no metrics were scraped", () => {
    const doc = page(renderHtml(pass));
    expect(findAll(doc, (n) => n.name === "figure").map((f) => f.attrs.id)).toEqual([
      "chart-rate",
      "chart-latency",
      "chart-availability",
    ]);
    expect(textOf(byId(doc, "chart-target-missing"))).toBe(
      "No service metrics were scraped in this run, so breaker state and restarts are not shown.",
    );
  });
});

describe("HTML report: faults, scenario, environment", () => {
  it("tabulates each fault with detect (or why not), answer again, full service and affected requests", () => {
    const rows = findAll(byId(failDoc, "faults"), (n) => n.attrs["data-fault-id"] !== undefined);
    expect(rows.map(cells)).toEqual([
      [
        "kill-worker SIGKILL the model worker",
        "process-kill",
        "worker",
        "t+10.00 s",
        "instant",
        "400 ms",
        "6.00 s",
        "8.00 s",
        "9 / 18 of 60",
      ],
      [
        "slow-api add 250 ms latency to the API",
        "toxiproxy-latency",
        "api",
        "t+18.00 s",
        "6.00 s",
        "not detected the service gave no signal (no degraded or shed answer, no open breaker)",
        "1.00 s",
        "1.00 s",
        "1 / 0 of 70",
      ],
    ]);
    expect(rows.map((r) => [r.attrs["data-tta"], r.attrs["data-ttf"]])).toEqual([
      ["6000", "8000"],
      ["1000", "1000"],
    ]);
  });

  it("says 'not recorded' for a level an older record does not carry, and 'never' for one not reached", () => {
    const { levels: _levels, ...old } = failKill;
    const faults = old.faults.map(({ timeToAnswerAgainMs: _a, timeToFullServiceMs: _f, ...f }, i) =>
      i === 0 ? { ...f, timeToRecoverMs: null, recovered: false } : f,
    );
    const doc = parseMarkup(renderHtml({ ...old, faults }), true);
    expect(textOf(byId(doc, "stat-availability"))).toBe("Availability answered 96.667% full service n/a");
    const rows = findAll(byId(doc, "faults"), (n) => n.attrs["data-fault-id"] !== undefined);
    expect(rows.map((r) => cells(r).slice(6, 8))).toEqual([
      ["never", "not recorded"],
      ["1.00 s", "not recorded"],
    ]);
  });

  it("includes the scenario as run, as YAML", () => {
    const pre = findAll(byId(failDoc, "scenario"), (n) => n.name === "pre")[0];
    expect(pre.text.split("\n").slice(0, 5)).toEqual([
      "name: worker-kill",
      "seed: 42",
      "load:",
      "  rate: 10",
      "  duration: 30s",
    ]);
  });

  it("includes the environment", () => {
    const rows = findAll(byId(failDoc, "environment"), (n) => n.name === "tr").map(cells);
    expect(rows[0]).toEqual([
      "Target",
      "reference: reference service (simulated GPU) (http://127.0.0.1:41234)",
    ]);
    expect(rows[4]).toEqual(["Host", "ci-runner-1: linux x64, 2 CPUs, 8.0 GiB"]);
  });
});

describe("HTML report: self-contained and safe", () => {
  it("references nothing outside the file and runs no script", () => {
    const doc = failDoc;
    expect(findAll(doc, (n) => ["script", "link", "img", "iframe", "object"].includes(n.name)).length).toBe(
      0,
    );
    expect(findAll(doc, (n) => n.attrs.src !== undefined || n.attrs.href !== undefined).length).toBe(0);
    // url(#id) is ECharts' own clip-path reference inside the SVG; anything else would fetch.
    expect(/url\((?!#)|@import|xlink:href="(?!#)/i.test(failHtml)).toBe(false);
    expect(new Set([...failHtml.matchAll(/ id="(zr[^"]+)"/g)].map((m) => m[1])).size).toBe(
      [...failHtml.matchAll(/ id="(zr[^"]+)"/g)].length,
    );
    const csp = findAll(doc, (n) => n.attrs["http-equiv"] === "Content-Security-Policy")[0];
    expect(csp.attrs.content).toBe("default-src 'none'; style-src 'unsafe-inline'; img-src data:");
  });

  it("escapes every record string: hostile names stay text", () => {
    const html = renderHtml(hostile);
    const doc = page(html); // throws if any string broke the markup
    expect(findAll(doc, (n) => n.name === "script" || n.name === "img" || n.name === "b").length).toBe(0);
    expect(textOf(findAll(byId(doc, "verdict"), (n) => n.name === "h1")[0])).toBe(
      HOSTILE_NAME.replace("\u0001", "\uFFFD").replace(/\s+/g, " "),
    );
    const slo = findAll(doc, (n) => n.attrs["data-slo-id"] === 'a"b<c');
    expect(slo.length).toBe(1);
    const fault = findAll(doc, (n) => n.attrs["data-fault-id"] === 'kill"><b>')[0];
    expect(textOf(findAll(fault, (n) => n.attrs.class === "error")[0])).toContain("lone \uFFFD surrogate");
  });
});
