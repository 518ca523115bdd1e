import { z } from "zod";
import type { PickerKind } from "../../../harness/dashboard/index.js";

/** A small fault-kind table for picker tests (the registry's own summaries may change). */
const filler = (n: number): PickerKind => ({
  summary:
    n === 7
      ? "summary of kind 7, which is long enough that it has to be cut at the edge"
      : `summary of kind ${n}`,
  targets: ["spool"],
  params: z.strictObject({}),
  isInstant: () => true,
});

export const TEST_KINDS: Readonly<Record<string, PickerKind>> = {
  ...Object.fromEntries([0, 1, 2, 3, 4, 5, 6, 7].map((n) => [`kind-${n}`, filler(n)])),
  "process-kill": {
    summary: "Kill a process",
    targets: ["api", "worker", "command"],
    params: z.strictObject({ scope: z.enum(["auto", "process", "group"]).default("auto") }),
    isInstant: () => true,
  },
  "load-burst": {
    summary: "Multiply the arrival rate",
    targets: ["load"],
    params: z.strictObject({ multiplier: z.number().gt(0).max(1000) }),
    isInstant: () => false,
  },
};
