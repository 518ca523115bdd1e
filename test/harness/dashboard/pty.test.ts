import { mkdtemp, readFile, rm } from "node:fs/promises";
import { gateTool, missingTool } from "../../system-tools.js";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TmuxPane } from "./tmux.js";

/**
 * The dashboard in a real pseudo-terminal (tmux, 80x24): a real load against a local server,
 * a real fault scheduler with one load-burst, keys sent as a person would type them.
 */
const script = fileURLToPath(new URL("./fixtures/dashboard-demo.ts", import.meta.url));
const root = fileURLToPath(new URL("../../..", import.meta.url));
const panes: TmuxPane[] = [];

let dir = "";
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "faultline-dash-pty-"));
});
afterAll(async () => {
  for (const pane of panes) pane.kill();
  await rm(dir, { recursive: true, force: true });
});

const noTmux = gateTool(missingTool("tmux", ["-V"], "tmux"), "pseudo-terminal tests");

describe.skipIf(noTmux)("dashboard in a real pty", () => {
  it.each([
    ["q", "q"],
    ["Ctrl-C", "C-c"],
  ])(
    "shows the rate and the burst's activation, and %s stops gracefully with the fault reverted",
    async (_name, key) => {
      const out = join(dir, `final-${key}.json`);
      const pane = new TmuxPane("dash", `demo-${key}`);
      panes.push(pane);
      // Without CI in the child's environment: ink draws only a final frame when CI is set.
      pane.start(`env -u CI node --import tsx ${script} ${out}`, root);
      // Start-up compiles TypeScript on a shared 2-core machine: allow it time (condition, not sleep).
      const first = await pane.waitFor(
        "the dashboard",
        (s) => s.includes("faultline · dashboard-demo"),
        40_000,
      );
      expect(first.split("\n").every((l) => l.length <= 80)).toBe(true);
      const active = await pane.waitFor(
        "the burst to be active",
        (s) => /> ACTIVE +burst +load x3 on load +ends in/.test(s),
        30_000,
      );
      const lines = active.split("\n");
      expect(lines.find((l) => l.startsWith("Rate"))).toMatch(
        /^Rate {6}\d+(\.\d)?\/s sent of 120\/s target \(x3\), in flight \d+$/,
      );
      expect(lines.find((l) => l.startsWith("Target"))).toBe(
        "Target    ready yes  worker up  restarts 1  VRAM 2.0/8.0 GiB",
      );
      expect(lines.find((l) => l.startsWith("Keys"))).toBe(
        "Keys  q/Ctrl-C stop gracefully  a abort now  f inject fault  p pause timeline",
      );
      pane.keys(key);
      await pane.waitFor("the final line", (s) => s.includes("FINAL "), 30_000);
      expect(JSON.parse(await readFile(out, "utf8"))).toEqual({
        how: "graceful",
        multiplier: 1,
        reverted: ["burst"],
        statuses: ["burst:reverted"],
        stopped: true,
      });
    },
    120_000,
  );
});
