import { mulberry32 } from "../../common/random.js";

/** FNV-1a, to derive a per-occurrence seed from the scenario seed and the occurrence's name. */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

export const occurrenceRandom = (seed: number, name: string): (() => number) =>
  mulberry32((seed ^ hashString(name)) >>> 0);
