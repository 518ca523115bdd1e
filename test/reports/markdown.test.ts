import { describe, expect, it } from "vitest";
import { renderMarkdown } from "../../reports/index.js";
import { aborted, failKill, hostile, pass } from "../fixtures/records/index.js";

describe("Markdown summary", () => {
  it("puts several runs in one verdict table, then each run's missed SLOs with by how much", () => {
    expect(renderMarkdown([failKill, pass, aborted]).split("\n")).toEqual([
      "### faultline: 1 of 3 runs passed",
      "",
      "| Scenario | Verdict | SLOs met | Availability | P99 | Worst recovery | Run |",
      "| --- | --- | ---: | ---: | ---: | ---: | --- |",
      "| worker-kill | \u274c fail | 2/4 | 96.667% | 480 ms | 6.00 s | `20261123T120000Z-worker-kill` |",
      "| baseline | \u2705 pass | 2/2 | 100.000% | 95 ms | \u2013 | `20261123T110000Z-baseline` |",
      "| stall | \u26a0\ufe0f aborted | 2/2 | 100.000% | 95 ms | \u2013 | `20261123T130000Z-stall` |",
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

  it("says 'never' for the worst recovery when a fault did not recover", () => {
    const [kill, slow] = failKill.faults;
    const stuck = { ...failKill, faults: [kill, { ...slow, recovered: false, timeToRecoverMs: null }] };
    expect(renderMarkdown([stuck]).split("\n")[4]).toBe(
      "| worker-kill | \u274c fail | 2/4 | 96.667% | 480 ms | never | `20261123T120000Z-worker-kill` |",
    );
  });

  it("escapes names so a hostile scenario cannot add cells, rows or markup", () => {
    const row = renderMarkdown([hostile]).split("\n")[4] ?? "";
    // Unescaped pipes delimit cells: a table row of 7 cells has exactly 8.
    expect(row.match(/(?<!\\)\|/g)?.length).toBe(8);
    expect(row.startsWith("| \\<img src=x onerror=\"alert(1)\"\\> &amp; 'q' \\| \\*x\\* ")).toBe(true);
    expect(row.endsWith('| `hostile-</script><script>fetch("http://evil.invalid/")</script>` |')).toBe(true);
  });
});
