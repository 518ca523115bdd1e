import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { InvalidInputError } from "../../../common/errors.js";
import { collectClaims } from "../../../harness/claims/collect.js";
import { claimsGate, judgeClaim } from "../../../harness/claims/judge.js";
import { renderClaimsPage } from "../../../harness/claims/render.js";
import { FAULT_KINDS } from "../../../harness/faults/registry.js";
import type { RunRecord, SloResult } from "../../../harness/record/schema.js";
import { loadScenarios, parseScenario, type LoadedScenario } from "../../../harness/scenario/load.js";

function loaded(text: string): LoadedScenario {
  const r = parseScenario(text, "c.yaml", FAULT_KINDS);
  if (!r.ok) throw new Error(r.issues.map((i) => `${i.path}: ${i.message}`).join("\n"));
  return r.value;
}

const scenario = (claim: string): string => `name: c
target: { kind: reference }
load: { rate: 10, duration: 20s }
steadyState:
  after: [{ kind: http, name: ready-again, url: /health/ready }]
slos:
  - { id: up, kind: availability, min: 0.999 }
  - { id: fast, kind: latency, percentile: 95, max: 2s }
${claim}`;

const slo = (id: string, passed: boolean, measured: number, margin: number): SloResult => ({
  id,
  description: `${id} bound`,
  metric: "availability",
  comparator: ">=",
  bound: 0.999,
  measured,
  unit: "ratio",
  margin,
  passed,
});

// Only the fields the judge reads; a full record would be hundreds of lines of noise here.
const record = (slos: SloResult[], after = true): RunRecord =>
  ({
    status: "completed",
    slos,
    steadyState: { before: [], after: [{ name: "ready-again", passed: after, detail: "200 in 12ms" }] },
  }) as unknown as RunRecord;

describe("collectClaims", () => {
  it("judges a claim by every SLO of its file when judgedBy is omitted", () => {
    const [e] = collectClaims([loaded(scenario("claim: { id: a, source: 001.txt, quote: q }"))]);
    expect(e?.judgedBy).toEqual(["up", "fast"]);
    expect(e?.claim.expect).toBe("pass");
  });

  it("refuses a judge that is neither an SLO id nor a check name, and duplicate claim ids", () => {
    const bad = loaded(
      scenario(`claim:
  - { id: a, source: 001.txt, quote: q, judgedBy: [nope] }
  - { id: a, source: 001.txt, quote: q, judgedBy: [ready-again] }`),
    );
    expect(() => collectClaims([bad])).toThrow(InvalidInputError);
    try {
      collectClaims([bad]);
    } catch (e) {
      const issues = (e as { issues: { path: string; message: string }[] }).issues;
      expect(issues.map((i) => i.path)).toEqual(["claim.0.judgedBy", "claim.1.id"]);
    }
  });

  it("refuses a claims scenario without a claim", () => {
    expect(() => collectClaims([loaded(scenario(""))])).toThrow(InvalidInputError);
  });
});

describe("judgeClaim", () => {
  const [met, missed] = collectClaims([
    loaded(
      scenario(`claim:
  - { id: a, source: 001.txt, quote: q, judgedBy: [up, ready-again] }
  - { id: b, source: 001.txt, quote: q, expect: fail, judgedBy: [fast] }`),
    ),
  ]);
  if (!met || !missed) throw new Error("two claims expected");

  it("met when every judge passed; missed shows the shortfall", () => {
    const r = record([slo("up", true, 0.9995, 0.0005), slo("fast", false, 0.5, -0.499)]);
    const a = judgeClaim(met, r);
    expect(a.verdict).toBe("met");
    expect(a.measured).toEqual(["up bound: 99.950%", "ready-again: 200 in 12ms"]);
    expect(a.margin).toEqual(["+0.05 pp", "-"]);
    const b = judgeClaim(missed, r);
    expect(b.verdict).toBe("expected-miss");
    expect(b.margin).toEqual(["-49.9 pp"]);
    expect(claimsGate([a, b])).toBe(true);
  });

  it("a failed check misses the claim; an expected miss that passes is reported, and neither gate wrongly", () => {
    const r = record([slo("up", true, 1, 0.001), slo("fast", true, 1, 0.001)], false);
    const a = judgeClaim(met, r);
    const b = judgeClaim(missed, r);
    expect([a.verdict, b.verdict]).toEqual(["missed", "unexpected-pass"]);
    expect(claimsGate([a])).toBe(false);
    expect(claimsGate([b])).toBe(true);
  });

  it("a scenario without a completed record is not run, and gates", () => {
    const a = judgeClaim(met, null);
    expect(a.verdict).toBe("not-run");
    expect(claimsGate([a])).toBe(false);
  });

  it("the page has one row per claim and includes the catalogue", () => {
    const r = record([slo("up", true, 1, 0.001), slo("fast", false, 0.5, -0.499)]);
    const page = renderClaimsPage(
      [judgeClaim(met, r), judgeClaim(missed, r)],
      {
        endedAt: "2026-01-01T00:00:00Z",
        wallMs: 61_000,
        loadAverage: 1.5,
        cores: 2,
        command: "npm run claims",
      },
      { file: "cat.md", text: "## Catalogue\nrow" },
    );
    expect(page).toContain("**1 met, 0 missed, 1 missed as expected");
    expect(page.match(/^\| q \(`[ab]`\) \|/gm)).toHaveLength(2);
    expect(page.trimEnd().endsWith("## Catalogue\nrow")).toBe(true);
  });
});

describe("docs/claims.md and scenarios/claims agree", () => {
  it("the page lists every claims scenario and claim, and no scenario that does not exist", async () => {
    const scenarios = await loadScenarios(["scenarios/claims"], process.cwd(), FAULT_KINDS);
    const entries = collectClaims(scenarios);
    const page = await readFile("docs/claims.md", "utf8");
    const catalog = await readFile("docs/claims-catalog.md", "utf8");
    const linked = new Set(
      [...page.matchAll(/\]\(\.\.\/(scenarios\/claims\/[^)]+\.yaml)\)/g)].map((m) => m[1]),
    );
    const files = new Set(scenarios.map((s) => s.file));
    expect([...linked].sort()).toEqual([...files].sort());
    for (const e of entries) {
      expect(page, `claim ${e.claim.id} in docs/claims.md`).toContain(`(\`${e.claim.id}\`)`);
      expect(catalog, `claim ${e.claim.id} in docs/claims-catalog.md`).toContain(`| ${e.claim.id} |`);
    }
    expect(entries.length).toBeGreaterThanOrEqual(45);
  });
});
