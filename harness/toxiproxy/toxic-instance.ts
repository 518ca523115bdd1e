import type { AnyToxicDefinition } from "./toxics/toxic.js";

export type Direction = "upstream" | "downstream";

/** A toxic as added to a proxy: the API's view of it plus the definition that runs it. */
export interface ToxicInstance {
  readonly name: string;
  readonly type: string;
  /** Echoed exactly as sent ("Upstream" stays "Upstream"); `direction` is the parsed value. */
  readonly stream: string;
  readonly direction: Direction;
  toxicity: number;
  /** Mutated in place by updates (the real server merges into the same struct). */
  readonly attributes: Record<string, number>;
  readonly definition: AnyToxicDefinition;
  /** Position in its direction's chain; 0 is the hidden noop. */
  index: number;
}

/** The wire form, keys in the real server's order. */
export interface ToxicJson {
  readonly attributes: Record<string, number>;
  readonly name: string;
  readonly type: string;
  readonly stream: string;
  readonly toxicity: number;
}

export function toxicJson(toxic: ToxicInstance): ToxicJson {
  const attributes: Record<string, number> = {};
  for (const key of Object.keys(toxic.definition.attributes)) attributes[key] = toxic.attributes[key] ?? 0;
  return { attributes, name: toxic.name, type: toxic.type, stream: toxic.stream, toxicity: toxic.toxicity };
}

export function parseDirection(stream: string): Direction | undefined {
  const lower = stream.toLowerCase();
  return lower === "upstream" || lower === "downstream" ? lower : undefined;
}
