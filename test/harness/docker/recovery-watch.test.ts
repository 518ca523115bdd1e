import { describe, expect, it } from "vitest";
import { describeRecovery } from "../../../harness/docker/recovery-watch.js";

describe("describeRecovery (the run-event line of a container's recovery)", () => {
  it.each([
    [
      "running and ready",
      { runningAfterMs: 548, readyAfterMs: 1479, restarts: 1 },
      "container api: recovered: running again 548 ms and ready 1479 ms after it died (restart count 1)",
    ],
    [
      "running, never ready",
      { runningAfterMs: 700, readyAfterMs: null, restarts: 3 },
      "container api: running again 700 ms after it died, but not ready within 120 s (restart count 3)",
    ],
    [
      "never running",
      { runningAfterMs: null, readyAfterMs: null, restarts: 0 },
      "container api: not running again within 120 s of dying (restart count 0)",
    ],
  ])("%s", (_name, r, line) => expect(describeRecovery("api", r, 120_000)).toBe(line));
});
