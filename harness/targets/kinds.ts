import type { TargetSpec } from "../scenario/schema.js";
import { dockerKind } from "../docker/kind.js";
import { commandKind } from "./command.js";
import type { TargetKind } from "./kind.js";
import { referenceKind } from "./reference/kind.js";
import { urlKind } from "./url.js";

export type { TargetKind } from "./kind.js";

type SpecOf<K extends TargetSpec["kind"]> = Extract<TargetSpec, { kind: K }>;

/** Every target kind and what the harness does for it: the one place that tells kinds apart. */
export const TARGET_KINDS: { readonly [K in TargetSpec["kind"]]: TargetKind<SpecOf<K>> } = {
  reference: referenceKind,
  command: commandKind,
  url: urlKind,
  docker: dockerKind,
};

/** The row for a spec's kind, typed for that spec. */
export function targetKind<S extends TargetSpec>(spec: S): TargetKind<S> {
  // TypeScript cannot correlate spec.kind with the row it selects across the union; the
  // table's mapped type already pins each row to its own kind's spec.
  return TARGET_KINDS[spec.kind] as unknown as TargetKind<S>;
}
