import { resolve } from "node:path";
import type { Runtime } from "../../common/runtime.js";

/**
 * Where the fault journal lives: `faultline run` writes it, `faultline cleanup` reads it, so
 * both take it from here. FAULTLINE_JOURNAL_DIR overrides (tests, several harnesses at once).
 */
export function journalDir(rt: Pick<Runtime, "cwd" | "env">): string {
  return resolve(rt.cwd, rt.env.FAULTLINE_JOURNAL_DIR ?? ".faultline/journal");
}
