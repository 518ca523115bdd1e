/**
 * The floor of file IPC on this machine: a ping-pong between two processes through two
 * directories, each leg being write temp file, rename into place, inotify (fs.watch) wake-up,
 * read, unlink. Synchronous fs calls, no checksum, no JSON: what the spool cannot beat.
 * Run: node --import tsx bench/service/ipc-floor.ts [round trips]
 */
import { fork } from "node:child_process";
import {
  mkdtempSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  unlinkSync,
  watch,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

function leg(inDir: string, outDir: string, onMessage: (n: number) => void): () => void {
  const w = watch(inDir, () => {
    for (const name of readdirSync(inDir)) {
      if (name.startsWith(".tmp")) continue;
      let n: number;
      try {
        n = Number(readFileSync(join(inDir, name), "utf8"));
        unlinkSync(join(inDir, name));
      } catch {
        continue; // already consumed on an earlier event
      }
      onMessage(n);
    }
  });
  void outDir;
  return () => w.close();
}

export function send(dir: string, n: number): void {
  const tmp = join(dir, `.tmp-${n}`);
  writeFileSync(tmp, String(n));
  renameSync(tmp, join(dir, `${String(n).padStart(10, "0")}.frame`));
}

if (process.argv[2] === "--child") {
  const [a, b] = [process.argv[3] ?? "", process.argv[4] ?? ""];
  leg(a, b, (n) => send(b, n));
  process.send?.("ready");
} else {
  const rounds = Number(process.argv[2] ?? 2000);
  const root = mkdtempSync(join(tmpdir(), "ipc-floor-"));
  const [a, b] = [join(root, "a"), join(root, "b")];
  for (const d of [a, b]) rmSync(d, { recursive: true, force: true });
  await import("node:fs/promises").then((fs) => Promise.all([fs.mkdir(a), fs.mkdir(b)]));
  const child = fork(new URL(import.meta.url).pathname, ["--child", a, b], { execArgv: process.execArgv });
  await new Promise<void>((r) => child.once("message", () => r()));
  const times: number[] = [];
  let started = 0n;
  await new Promise<void>((done) => {
    const stop = leg(b, a, (n) => {
      times.push(Number(process.hrtime.bigint() - started) / 1000);
      if (n + 1 >= rounds) {
        stop();
        done();
        return;
      }
      started = process.hrtime.bigint();
      send(a, n + 1);
    });
    started = process.hrtime.bigint();
    send(a, 0);
  });
  child.kill();
  rmSync(root, { recursive: true, force: true });
  times.sort((x, y) => x - y);
  const p = (q: number): number => times[Math.min(times.length - 1, Math.floor(q * times.length))] ?? NaN;
  console.log(
    `file IPC floor, ${rounds} round trips: p50 ${p(0.5).toFixed(0)} µs, p99 ${p(0.99).toFixed(0)} µs`,
  );
}
