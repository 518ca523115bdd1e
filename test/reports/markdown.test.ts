import { describe, expect, it } from "vitest";
import { renderMarkdown } from "../../reports/index.js";
import { aborted, failKill, hostile, pass } from "../fixtures/records/index.js";

describe("Markdown summary", () => {
  it("puts several runs in one verdict table, then each run's missed SLOs with by how much", () => {
    expect(renderMarkdown([failKill, pass, aborted]).split("\n")).toEqual([
      "### faultline: 1 of 3 runs passed",
      "",
      "| Scenario | Verdict | SLOs met | Answered | Full service | P99 | Worst time to answer again | Worst time to full service | Run |",
      "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
      "| worker-kill | \u274c fail | 2/4 | 96.667% | 90.667% | 480 ms | 6.00 s | 8.00 s | `20261123T120000Z-worker-kill` |",
      // baseline and stall are records from before levels: full service reads as not recorded.
      "| baseline | \u2705 pass | 2/2 | 100.000% | n/a | 95 ms | \u2013 | \u2013 | `20261123T110000Z-baseline` |",
      "| stall | \u26a0\ufe0f aborted | 2/2 | 100.000% | n/a | 95 ms | \u2013 | \u2013 | `20261123T130000Z-stall` |",
      "",
      "**worker-kill** (\u274c fail):",
      "- availability \\>= 99.9%: measured 96.667%, bound \\>= 99.900%, missed by 3.233 pp",
      "- recover(kill-worker) \\<= 5s: measured 6.00 s, bound \\<= 5.00 s, missed by 1.00 s",
      "",
      "**stall** (\u26a0\ufe0f aborted):",
      "- run aborted: max in-flight (256) reached for 3 s: target stalled",
      "",
    ]);
  });

  it("says 'never' for the worst time at a level a fault did not reach, per level", () => {
    const [kill, slow] = failKill.faults;
    if (!kill || !slow) throw new Error("fixture has two faults");
    // Answering again with fallbacks, but never back at full service before the run ended.
    const stuck = { ...failKill, faults: [kill, { ...slow, timeToFullServiceMs: null }] };
    expect(renderMarkdown([stuck]).split("\n")[4]).toBe(
      "| worker-kill | \u274c fail | 2/4 | 96.667% | 90.667% | 480 ms | 6.00 s | never | `20261123T120000Z-worker-kill` |",
    );
  });

  it("says 'n/a', not 'never', when an older record does not say a level's time", () => {
    const { levels: _levels, ...old } = failKill;
    const faults = old.faults.map(({ timeToAnswerAgainMs: _a, timeToFullServiceMs: _f, ...f }) => f);
    // Counted with fallbacks: its time to recover is the time to answer again; full is unknown.
    expect(renderMarkdown([{ ...old, faults }]).split("\n")[4]).toBe(
      "| worker-kill | \u274c fail | 2/4 | 96.667% | n/a | 480 ms | 6.00 s | n/a | `20261123T120000Z-worker-kill` |",
    );
  });

  it("escapes names so a hostile scenario cannot add cells, rows or markup", () => {
    const row = renderMarkdown([hostile]).split("\n")[4] ?? "";
    // Unescaped pipes delimit cells: a table row of 9 cells has exactly 10.
    expect(row.match(/(?<!\\)\|/g)?.length).toBe(10);
    expect(row.startsWith("| \\<img src=x onerror=\"alert(1)\"\\> &amp; 'q' \\| \\*x\\* ")).toBe(true);
    expect(row.endsWith('| `hostile-</script><script>fetch("http://evil.invalid/")</script>` |')).toBe(true);
  });
});
