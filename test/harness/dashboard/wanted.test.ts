import { describe, expect, it } from "vitest";
import { dashboardWanted } from "../../../harness/dashboard/wanted.js";

const rt = (stdoutTty: boolean, stdinTty: boolean, env: Record<string, string | undefined> = {}) =>
  ({ stdout: { isTTY: stdoutTty }, stdin: { isTTY: stdinTty }, env }) as unknown as Parameters<
    typeof dashboardWanted
  >[0];

describe("dashboardWanted", () => {
  it.each([
    ["terminal on both ends", rt(true, true), true, true],
    ["--no-dashboard", rt(true, true), false, false],
    ["stdout piped", rt(false, true), true, false],
    ["stdin piped", rt(true, false), true, false],
    [
      "CI=true with a terminal (ink would draw only the last frame)",
      rt(true, true, { CI: "true" }),
      true,
      false,
    ],
    ["CI=false", rt(true, true, { CI: "false" }), true, true],
  ])("%s", (_name, runtime, enabled, expected) => {
    expect(dashboardWanted(runtime, enabled)).toBe(expected);
  });
});
