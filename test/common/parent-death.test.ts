import { spawn } from "node:child_process";
import { describe, expect, it } from "vitest";
import { readProcStat } from "../../harness/faults/proc.js";
import { resolveExecutable, withParentDeathSignal } from "../../common/parent-death.js";

/** A program the harness starts exits when the harness is SIGKILLed (real processes). */
describe("parent-death signal", () => {
  it("resolves programs on PATH and leaves a missing one unwrapped (so its spawn fails with ENOENT)", () => {
    expect(resolveExecutable("sh")).toMatch(/\/sh$/);
    expect(resolveExecutable("no-such-program-faultline")).toBeNull();
    expect(withParentDeathSignal("no-such-program-faultline", ["a"])).toEqual([
      "no-such-program-faultline",
      ["a"],
    ]);
    const [file, args] = withParentDeathSignal("sleep", ["60"]);
    expect(file).toMatch(/\/setpriv$/);
    expect(args).toEqual(["--pdeathsig", "TERM", "--", "sleep", "60"]);
  });

  it("a program started through it exits when its starter is SIGKILLed", async () => {
    // The starter is a separate node process (the harness's stand-in): it spawns `sleep 60`
    // detached through the wrapper, prints the pid, and waits to be killed.
    const script = `
      const { spawn } = require("node:child_process");
      const [file, args] = ${JSON.stringify(withParentDeathSignal("sleep", ["60"]))};
      const c = spawn(file, args, { detached: true, stdio: "ignore" });
      c.unref();
      setTimeout(() => console.log(c.pid), 100);
      setInterval(() => {}, 1000);`;
    const starter = spawn(process.execPath, ["-e", script], { stdio: ["ignore", "pipe", "inherit"] });
    const pid = await new Promise<number>((resolve) =>
      starter.stdout.once("data", (d: Buffer) => resolve(Number(String(d).trim()))),
    );
    expect((await readProcStat(pid))?.state).not.toBe("Z");
    starter.kill("SIGKILL");
    const deadline = Date.now() + 5000;
    let stat = await readProcStat(pid);
    while (stat !== null && stat.state !== "Z" && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
      stat = await readProcStat(pid);
    }
    expect(stat === null || stat.state === "Z").toBe(true);
  });
});
