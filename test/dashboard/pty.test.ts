import { execFileSync } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

/**
 * The dashboard in a real pseudo-terminal (tmux, 80x24): a real load against a local server,
 * a real fault scheduler with one load-burst, keys sent as a person would type them.
 */
const socket = `faultline-dash-${process.pid}`;
const tmux = (...args: string[]): string =>
  execFileSync("tmux", ["-L", socket, ...args], { encoding: "utf8" });
let session = "demo";
const screen = (): string => tmux("capture-pane", "-p", "-t", session);
const script = fileURLToPath(new URL("./fixtures/dashboard-demo.ts", import.meta.url));
const root = fileURLToPath(new URL("../..", import.meta.url));

async function waitFor(what: string, ok: (s: string) => boolean, timeoutMs: number): Promise<string> {
  const until = Date.now() + timeoutMs;
  let last = "";
  while (Date.now() < until) {
    last = screen();
    if (ok(last)) return last;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what}; screen was:\n${last}`);
}

let dir = "";
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "faultline-dash-pty-"));
});
afterAll(async () => {
  try {
    tmux("kill-server");
  } catch {
    // already gone
  }
  await rm(dir, { recursive: true, force: true });
});

describe("dashboard in a real pty", () => {
  it.each([
    ["q", "q"],
    ["Ctrl-C", "C-c"],
  ])(
    "shows the rate and the burst's activation, and %s stops gracefully with the fault reverted",
    async (_name, key) => {
      const out = join(dir, `final-${key}.json`);
      session = `demo-${key}`;
      // `sleep` keeps the pane (and the final line) readable after the script exits; kill-server ends it.
      tmux(
        "new-session",
        "-d",
        "-x",
        "80",
        "-y",
        "24",
        "-s",
        session,
        "-c",
        root,
        // Without CI in the child's environment: ink draws only a final frame when CI is set.
        `env -u CI node --import tsx ${script} ${out}; sleep 60`,
      );
      // Start-up compiles TypeScript on a shared 2-core machine: allow it time (condition, not sleep).
      const first = await waitFor("the dashboard", (s) => s.includes("faultline · dashboard-demo"), 40_000);
      expect(first.split("\n").every((l) => l.length <= 80)).toBe(true);
      const active = await waitFor(
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
      tmux("send-keys", "-t", session, key);
      await waitFor("the final line", (s) => s.includes("FINAL "), 30_000);
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
