import { describe, expect, it } from "vitest";
import {
  CONTAINER_LIKE_POLICY,
  nextConsecutive,
  restartDelayMs,
} from "../../../harness/targets/restart-policy.js";

describe("container-like restart policy", () => {
  it("doubles from 100 ms and caps at 5 s", () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8].map((n) => restartDelayMs(CONTAINER_LIKE_POLICY, n))).toEqual([
      100, 200, 400, 800, 1600, 3200, 5000, 5000,
    ]);
  });

  it("a process that stayed up 10 s starts the sequence again", () => {
    expect(nextConsecutive(CONTAINER_LIKE_POLICY, 4, 9_999)).toBe(5);
    expect(nextConsecutive(CONTAINER_LIKE_POLICY, 4, 10_000)).toBe(1);
    expect(nextConsecutive(CONTAINER_LIKE_POLICY, 0, 0)).toBe(1);
  });
});
