import { rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { STATE_FILES } from "../../../reference-service/contract.js";
import { parseExposition } from "../api/prom-text.js";
import { startService, waitReady, type ServiceProcess } from "./service-process.js";

let s: ServiceProcess | undefined;
afterEach(async () => {
  await s?.cleanup();
  s = undefined;
});

describe("corrupt files in the response spool while requests flow", () => {
  it("the API keeps answering every request, none hangs, and the rejection counter moves by kind", async () => {
    s = await startService(["--request-timeout-ms", "5000"]);
    const svc = s;
    await waitReady(svc.url, 20_000);
    const responses = join(svc.stateDir, STATE_FILES.spoolResponses);
    const outcomes: number[] = [];
    let stop = false;
    const loops = Array.from({ length: 3 }, async () => {
      for (let i = 0; i < 60 && !stop; i++) {
        const started = performance.now();
        const r = await fetch(`${svc.url}/v1/chat/completions`, {
          method: "POST",
          body: JSON.stringify({
            model: "sim-utility",
            messages: [{ role: "user", content: `c${i}` }],
            max_tokens: 3,
          }),
        });
        await r.arrayBuffer();
        // Bounded by the 5 s request deadline plus fallback time; a hang would exceed it.
        expect(performance.now() - started).toBeLessThan(8000);
        outcomes.push(r.status);
      }
    });
    await new Promise((r) => setTimeout(r, 200));
    // Each bad file appears whole (rename), so the reader sees exactly the intended damage.
    const drop = async (name: string, data: string | Buffer) => {
      await writeFile(join(svc.dir, name), data);
      await rename(join(svc.dir, name), join(responses, name));
    };
    await drop("0000000001-garbage.frame", "this is not a frame");
    await drop("0000000002-empty.frame", "");
    await drop("0000000003-short.frame", Buffer.from("FLTF\x00"));
    await new Promise((r) => setTimeout(r, 1000));
    stop = true;
    await Promise.all(loops);
    expect(outcomes.filter((st) => st !== 200 && st !== 503)).toEqual([]);
    const text = await (await fetch(`${svc.url}/metrics`)).text();
    const corrupt = parseExposition(text).samples.filter(
      (x) => x.name === "faultline_ipc_frames_corrupt_total",
    );
    const byKind = Object.fromEntries(corrupt.map((x) => [x.labels.kind, x.value]));
    expect(byKind).toEqual({ "bad-magic": 1, empty: 1, truncated: 1 });
    expect(svc.child.exitCode).toEqual(null);
  }, 60_000);
});
