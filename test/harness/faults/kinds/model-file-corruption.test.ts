import { mkdir, readFile, readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { runCleanup } from "../../../../harness/faults/cleanup.js";
import { FaultJournal } from "../../../../harness/faults/journal.js";
import { corrupted, modelFileCorruption } from "../../../../harness/faults/kinds/model-file-corruption.js";
import { Sandbox, faultContext } from "../helpers.js";

const sandbox = new Sandbox();
afterEach(() => sandbox.teardown());

/** 64 KiB of a recognisable pattern that starts with the GGUF magic. */
const ORIGINAL = Buffer.concat([Buffer.from("GGUF"), Buffer.alloc(65_532, 7)]);

async function stateWithModel(): Promise<{ stateDir: string; file: string }> {
  const stateDir = join(await sandbox.tempDir(), "state");
  await mkdir(join(stateDir, "models"), { recursive: true });
  const file = join(stateDir, "models", "tiny-abc.gguf");
  await writeFile(file, ORIGINAL);
  await writeFile(`${file}.sha256`, "not a model\n");
  return { stateDir, file };
}

const parse = (p: unknown) => modelFileCorruption.params.parse(p);

describe("model-file-corruption", () => {
  it("header: replaces the first bytes (never the magic again), leaves the rest", () => {
    const out = corrupted(ORIGINAL, parse({ mode: "header", bytes: 16 }), () => 0);
    expect(out.length).toBe(ORIGINAL.length);
    expect([...out.subarray(0, 16)]).toEqual(Array<number>(16).fill(0));
    expect(out.subarray(16).equals(ORIGINAL.subarray(16))).toBe(true);
    // A random source that spells "GGUF" again: the first byte is flipped.
    const spell = [..."GGUF"].map((c) => c.charCodeAt(0) / 256);
    const again = corrupted(ORIGINAL, parse({ mode: "header", bytes: 4 }), () => spell.shift() ?? 0);
    expect(again.toString("latin1", 0, 4)).toBe(`${String.fromCharCode(0x47 ^ 0xff)}GUF`);
  });

  it("tensor-data: `bytes` bytes changed, all in the second half", () => {
    const out = corrupted(ORIGINAL, parse({ mode: "tensor-data", bytes: 100 }), () => 0);
    const changed = [...out.keys()].filter((i) => out[i] !== ORIGINAL[i]);
    expect(changed).toEqual(Array.from({ length: 100 }, (_, i) => 32_768 + i));
  });

  it("truncate: keeps keepFraction of the file", () => {
    const out = corrupted(ORIGINAL, parse({ mode: "truncate", keepFraction: 0.25 }), () => 0.3);
    expect(out.equals(ORIGINAL.subarray(0, 16_384))).toBe(true);
  });

  it("finds the only .gguf under <stateDir>/models, corrupts it, and revert restores it byte-exact", async () => {
    const { stateDir, file } = await stateWithModel();
    const ctx = faultContext({ stateDir }, "worker", "m1");
    for (const mode of ["header", "tensor-data", "truncate"] as const) {
      const state = await modelFileCorruption.inject(parse({ mode }), ctx);
      expect(state.file).toBe(file);
      expect((await readFile(file)).equals(ORIGINAL)).toBe(false);
      await modelFileCorruption.revert(state, { clock: ctx.clock });
      expect((await readFile(file)).equals(ORIGINAL)).toBe(true);
      await modelFileCorruption.revert(state, { clock: ctx.clock }); // idempotent
      expect((await readFile(file)).equals(ORIGINAL)).toBe(true);
    }
    expect(await readdir(join(stateDir, "models"))).toEqual(["tiny-abc.gguf", "tiny-abc.gguf.sha256"]);
    expect(await readdir(join(stateDir, ".faultline-faults"))).toEqual([]);
  });

  it("refuses clearly when it cannot tell which model file to corrupt", async () => {
    const { stateDir } = await stateWithModel();
    await writeFile(join(stateDir, "models", "small-def.gguf"), ORIGINAL);
    await expect(
      modelFileCorruption.inject(parse({ mode: "header" }), faultContext({ stateDir }, "worker")),
    ).rejects.toThrow(/found 2 \.gguf files in .*models, need exactly one/);
  });

  it("faultline cleanup restores the file after the harness died mid-inject or after it", async () => {
    const { stateDir, file } = await stateWithModel();
    const journal = new FaultJournal(join(await sandbox.tempDir(), "journal"));
    const params = { mode: "truncate" };
    for (const [id, activate] of [
      ["pending", false],
      ["active", true],
    ] as const) {
      const context = { occurrenceId: id, targetName: "worker", stateDir, toxiproxy: null, pids: {} };
      const entry = await journal.begin({
        occurrenceId: id,
        faultId: "m",
        kind: "model-file-corruption",
        target: "worker",
        params,
        context,
        createdAtMs: 0,
      });
      const state = await modelFileCorruption.inject(parse(params), faultContext({ stateDir }, "worker", id));
      if (activate) await journal.activate(entry, state, 1);
      expect((await readFile(file)).length).toBe(ORIGINAL.length / 2);
      const report = await runCleanup({ journalDir: journal.dir });
      expect(report.items.map((i) => [i.occurrenceId, i.action])).toEqual([
        [id, activate ? "reverted" : "undone-pending"],
      ]);
      expect((await readFile(file)).equals(ORIGINAL)).toBe(true);
    }
    expect(await readdir(journal.dir)).toEqual([]);
  });
});
