import { randomBytes } from "node:crypto";
import type { FaultContext } from "./injector.js";

/** Ids go into file names, toxic names and request ids, so they keep to this alphabet. */
export const OCCURRENCE_ID_PATTERN = /^[A-Za-z0-9._-]{1,80}$/;

export function occurrenceIdOf(ctx: Pick<FaultContext, "occurrenceId">): string {
  return ctx.occurrenceId ?? `adhoc-${randomBytes(6).toString("hex")}`;
}

/** The prefix every planted thing carries: `faultline-<occurrenceId>`. */
export const plantedName = (occurrenceId: string): string => `faultline-${occurrenceId}`;
