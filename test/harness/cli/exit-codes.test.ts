import { CommanderError } from "commander";
import { describe, expect, it } from "vitest";
import { FaultError, InvalidInputError, RunNotPossibleError } from "../../../common/errors.js";
import { EXIT, exitCodeFor, worstExitCode } from "../../../harness/cli/exit-codes.js";

describe("the exit-code table", () => {
  it.each([
    ["invalid input", new InvalidInputError([{ path: "x", message: "bad" }]), 2],
    ["run not possible", new RunNotPossibleError("target down"), 3],
    ["fault error", new FaultError("cannot inject"), 3],
    ["usage error", new CommanderError(1, "commander.unknownCommand", "unknown command"), 2],
    ["help shown", new CommanderError(0, "commander.helpDisplayed", "(outputHelp)"), 0],
    ["version shown", new CommanderError(0, "commander.version", "0.1.0"), 0],
    ["a bug", new TypeError("x is undefined"), 3],
  ])("%s -> %d", (_name, error, code) => expect(exitCodeFor(error)).toBe(code));

  it("the suite's code is the worst scenario's", () => {
    expect(worstExitCode([])).toBe(EXIT.ok);
    expect(worstExitCode([0, 1, 0])).toBe(1);
    expect(worstExitCode([1, 3, 0])).toBe(3);
  });
});
