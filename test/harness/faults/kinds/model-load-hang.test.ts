import { spawn } from "node:child_process";
import { lstat, mkdir, readFile, readdir, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { runCleanup } from "../../../../harness/faults/cleanup.js";
import { FaultJournal } from "../../../../harness/faults/journal.js";
import { modelLoadHang } from "../../../../harness/faults/kinds/model-load-hang.js";
import { Sandbox, faultContext } from "../helpers.js";

const sandbox = new Sandbox();
afterEach(() => sandbox.teardown());

const ORIGINAL = Buffer.concat([Buffer.from("GGUF"), Buffer.alloc(65_532, 7)]);

async function stateWithModel(): Promise<{ stateDir: string; file: string }> {
  const stateDir = join(await sandbox.tempDir(), "state");
  await mkdir(join(stateDir, "models"), { recursive: true });
  const file = join(stateDir, "models", "tiny-abc.gguf");
  await writeFile(file, ORIGINAL);
  return { stateDir, file };
}

/** A reader of the model file in its own process (a blocked open here would hold a libuv thread). */
function reader(file: string): Promise<{ ms: number; bytes: number; code: number | null }> {
  const t0 = performance.now();
  const child = spawn("cat", [file], { stdio: ["ignore", "pipe", "ignore"] });
  let bytes = 0;
  child.stdout.on("data", (d: Buffer) => (bytes += d.length));
  return new Promise((resolve) =>
    child.on("close", (code) => resolve({ ms: performance.now() - t0, bytes, code })),
  );
}

const params = modelLoadHang.params.parse({});

describe("model-load-hang", () => {
  it("a reader of the model file blocks until revert, which restores the file byte-exact", async () => {
    const { stateDir, file } = await stateWithModel();
    const ctx = faultContext({ stateDir }, "worker", "h1");
    const state = await modelLoadHang.inject(params, ctx);
    expect(state.file).toBe(file);
    expect((await lstat(file)).isFIFO()).toBe(true);
    const read = reader(file);
    // Still blocked after 300 ms: nothing will ever be written.
    const early = await Promise.race([read, new Promise((r) => setTimeout(() => r("blocked"), 300))]);
    expect(early).toBe("blocked");
    await modelLoadHang.revert(state, { clock: ctx.clock });
    // Released with end of file (not the model: it had opened the FIFO), at revert.
    expect(await read).toMatchObject({ bytes: 0, code: 0 });
    expect((await lstat(file)).isFile()).toBe(true);
    expect((await readFile(file)).equals(ORIGINAL)).toBe(true);
    expect(await reader(file)).toMatchObject({ bytes: ORIGINAL.length, code: 0 });
    await modelLoadHang.revert(state, { clock: ctx.clock }); // idempotent
    expect((await readFile(file)).equals(ORIGINAL)).toBe(true);
    expect(await readdir(join(stateDir, "models"))).toEqual(["tiny-abc.gguf"]);
    expect(await readdir(join(stateDir, ".faultline-faults"))).toEqual([]);
  });

  it("revert with nobody blocked, and a file someone replaced meanwhile is left alone", async () => {
    const { stateDir, file } = await stateWithModel();
    const ctx = faultContext({ stateDir }, "worker", "h2");
    const a = await modelLoadHang.inject(params, ctx);
    await modelLoadHang.revert(a, { clock: ctx.clock });
    expect((await readFile(file)).equals(ORIGINAL)).toBe(true);
    const b = await modelLoadHang.inject(params, faultContext({ stateDir }, "worker", "h3"));
    await writeFile(`${file}.new`, "newer model");
    await rename(`${file}.new`, file);
    await modelLoadHang.revert(b, { clock: ctx.clock });
    expect(await readFile(file, "utf8")).toBe("newer model");
  });

  it("faultline cleanup restores the file after the harness died mid-inject or after it", async () => {
    const { stateDir, file } = await stateWithModel();
    const journal = new FaultJournal(join(await sandbox.tempDir(), "journal"));
    for (const [id, activate] of [
      ["pending", false],
      ["active", true],
    ] as const) {
      const context = { occurrenceId: id, targetName: "worker", stateDir, toxiproxy: null, pids: {} };
      const entry = await journal.begin({
        occurrenceId: id,
        faultId: "h",
        kind: "model-load-hang",
        target: "worker",
        params: {},
        context,
        createdAtMs: 0,
      });
      const state = await modelLoadHang.inject(params, faultContext({ stateDir }, "worker", id));
      if (activate) await journal.activate(entry, state, 1);
      expect((await lstat(file)).isFIFO()).toBe(true);
      const report = await runCleanup({ journalDir: journal.dir });
      expect(report.items.map((i) => [i.occurrenceId, i.action])).toEqual([
        [id, activate ? "reverted" : "undone-pending"],
      ]);
      expect((await readFile(file)).equals(ORIGINAL)).toBe(true);
    }
    expect(await readdir(journal.dir)).toEqual([]);
    expect(await readdir(join(stateDir, "models"))).toEqual(["tiny-abc.gguf"]);
  });
});
