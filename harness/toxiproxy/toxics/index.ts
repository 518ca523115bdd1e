import type { AnyToxicDefinition } from "./toxic.js";
import { bandwidth } from "./bandwidth.js";
import { latency } from "./latency.js";
import { limitData } from "./limit-data.js";
import { noop } from "./noop.js";
import { resetPeer } from "./reset-peer.js";
import { slicer } from "./slicer.js";
import { slowClose } from "./slow-close.js";
import { timeout } from "./timeout.js";

/** Every toxic type the API accepts, by its wire name. There is no `down` toxic (use enabled:false). */
export const toxicTypes = {
  latency,
  bandwidth,
  slow_close: slowClose,
  timeout,
  reset_peer: resetPeer,
  slicer,
  limit_data: limitData,
  noop,
} as const satisfies Record<string, { readonly type: string }>;

export type ToxicTypeName = keyof typeof toxicTypes;

export function toxicDefinition(type: string): AnyToxicDefinition | undefined {
  return Object.hasOwn(toxicTypes, type) ? toxicTypes[type as ToxicTypeName] : undefined;
}
