import type { TargetSpec } from "../scenario/schema.js";
import { targetKind } from "./kinds.js";
import type { RunningTarget, TargetContext } from "./target.js";

export type { RunningTarget, TargetContext } from "./target.js";
export { TARGET_KINDS, targetKind, type TargetKind } from "./kinds.js";

/** Starts the target with its kind's adapter (TARGET_KINDS). */
export function startTarget(spec: TargetSpec, ctx: TargetContext): Promise<RunningTarget> {
  return targetKind(spec).start(spec, ctx);
}
