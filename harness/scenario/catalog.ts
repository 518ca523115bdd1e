import type { z } from "zod";
import type { TargetRole } from "../faults/injector.js";

/**
 * What the scenario loader needs to know about fault kinds. The fault registry
 * (harness/faults/registry.ts) satisfies it structurally; tests pass a small table.
 */
export interface FaultKindInfo {
  readonly kind: string;
  readonly summary: string;
  readonly params: z.ZodType<unknown>;
  readonly targets: readonly TargetRole[];
  isInstant(params: never): boolean;
}

export type FaultCatalog = Readonly<Record<string, FaultKindInfo>>;

/** The role a scenario target name stands for: "link:client-api" -> "link", "api#2" -> "api". */
export function roleOf(targetName: string): string {
  const cut = targetName.search(/[:#]/);
  return cut === -1 ? targetName : targetName.slice(0, cut);
}
