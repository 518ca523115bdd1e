import type { Socket } from "node:net";
import { invalidStream, invalidToxicType, toxicAlreadyExists, toxicNotFound, ApiError } from "./errors.js";
import { decodeStruct, parseFirstValue, type GoKind } from "./go-json.js";
import { Mutex } from "./mutex.js";
import { ToxicLink, type LinkTotals } from "./link.js";
import type { StubEnv } from "./stub.js";
import {
  parseDirection,
  toxicJson,
  type Direction,
  type ToxicInstance,
  type ToxicJson,
} from "./toxic-instance.js";
import { toxicDefinition } from "./toxics/index.js";
import type { AnyToxicDefinition } from "./toxics/toxic.js";

const DIRECTIONS: readonly Direction[] = ["upstream", "downstream"];

const WRAPPER_FIELDS = {
  name: "string",
  type: "string",
  stream: "string",
  toxicity: "float32",
  attributes: "struct:toxics.NoopToxic",
} as const satisfies Record<string, GoKind>;

/**
 * A proxy's toxics, one ordered chain per direction, and the live links they act on. Every
 * change is applied to the chain and then to every open link of that direction before the
 * API answers, under one lock, as the real server does.
 */
export class ToxicCollection {
  private readonly chains: Record<Direction, ToxicInstance[]> = { upstream: [], downstream: [] };
  private readonly links = new Set<ToxicLink>();
  private readonly mutex = new Mutex();

  /** Upstream toxics first, then downstream, each in the order added. */
  list(): ToxicJson[] {
    return DIRECTIONS.flatMap((d) => this.chains[d].map(toxicJson));
  }

  get(name: string): ToxicJson {
    const toxic = this.find(name);
    if (!toxic) throw toxicNotFound();
    return toxicJson(toxic);
  }

  /** POST /proxies/{proxy}/toxics, with the real server's validation order. */
  add(body: string): Promise<ToxicJson> {
    return this.mutex.run(async () => {
      const wrapper = decodeStruct(
        parseFirstValue(body),
        WRAPPER_FIELDS,
        "ToxicWrapper",
        "toxics.ToxicWrapper",
      );
      const stream = (wrapper.stream as string | undefined) ?? "downstream";
      const direction = parseDirection(stream);
      if (!direction) throw invalidStream();
      const type = (wrapper.type as string | undefined) ?? "";
      const name = (wrapper.name as string | undefined) || `${type}_${stream}`;
      const definition = toxicDefinition(type);
      if (!definition) throw invalidToxicType();
      if (this.find(name)) throw toxicAlreadyExists();
      const attributes = mergeAttributes(definition, zeroAttributes(definition), wrapper.attributes ?? null);
      const toxicity = (wrapper.toxicity as number | undefined) ?? 1;
      const chain = this.chains[direction];
      const toxic: ToxicInstance = {
        name,
        type,
        stream,
        direction,
        toxicity,
        attributes,
        definition,
        index: chain.length + 1,
      };
      chain.push(toxic);
      await Promise.all(this.linksOf(direction).map((link) => link.addToxic(toxic)));
      return toxicJson(toxic);
    });
  }

  /** POST/PATCH .../toxics/{toxic}: attributes merged, toxicity kept unless given. */
  update(name: string, body: string): Promise<ToxicJson> {
    return this.mutex.run(async () => {
      const toxic = this.find(name);
      if (!toxic) throw toxicNotFound();
      const fields = {
        attributes: `struct:toxics.${toxic.definition.goStruct}`,
        toxicity: "float32",
      } as const;
      const patch = decodeStruct(
        parseFirstValue(body),
        fields,
        "",
        "struct { Attributes interface {}; Toxicity float32 }",
      );
      const merged = mergeAttributes(toxic.definition, { ...toxic.attributes }, patch.attributes ?? null);
      Object.assign(toxic.attributes, merged);
      if (typeof patch.toxicity === "number") toxic.toxicity = patch.toxicity;
      await Promise.all(this.linksOf(toxic.direction).map((link) => link.updateToxic(toxic)));
      return toxicJson(toxic);
    });
  }

  remove(name: string): Promise<void> {
    return this.mutex.run(async () => {
      const toxic = this.find(name);
      if (!toxic) throw toxicNotFound();
      await this.removeToxic(toxic);
    });
  }

  /** POST /reset: every toxic removed from the chains and from live links. */
  reset(): Promise<void> {
    return this.mutex.run(async () => {
      for (const direction of DIRECTIONS) {
        for (let first = this.chains[direction][0]; first; first = this.chains[direction][0]) {
          await this.removeToxic(first);
        }
      }
    });
  }

  /** Starts one direction of a new connection with the toxics present now. */
  startLink(direction: Direction, source: Socket, dest: Socket, env: StubEnv): Promise<LinkTotals> {
    const link = new ToxicLink(direction, () => this.chains[direction], env);
    this.links.add(link);
    return link.start(source, dest).finally(() => this.links.delete(link));
  }

  private async removeToxic(toxic: ToxicInstance): Promise<void> {
    const chain = this.chains[toxic.direction];
    const index = toxic.index;
    chain.splice(index - 1, 1);
    chain.forEach((t, i) => (t.index = i + 1));
    await Promise.all(this.linksOf(toxic.direction).map((link) => link.removeToxic(toxic, index)));
    toxic.index = -1;
  }

  private linksOf(direction: Direction): ToxicLink[] {
    return [...this.links].filter((link) => link.direction === direction);
  }

  private find(name: string): ToxicInstance | undefined {
    return DIRECTIONS.flatMap((d) => this.chains[d]).find((t) => t.name === name);
  }
}

function zeroAttributes(definition: AnyToxicDefinition): Record<string, number> {
  return Object.fromEntries(Object.keys(definition.attributes).map((key) => [key, 0]));
}

/** Decodes `raw` over `base` (a merge, as Go decodes into the existing struct) and validates. */
function mergeAttributes(
  definition: AnyToxicDefinition,
  base: Record<string, number>,
  raw: unknown,
): Record<string, number> {
  const kinds = definition.attributes as Record<string, GoKind>;
  const decoded = decodeStruct(
    raw,
    kinds,
    `${definition.goStruct}.attributes`,
    `toxics.${definition.goStruct}`,
  );
  const merged = { ...base, ...(decoded as Record<string, number>) };
  const problem = definition.invalid(merged);
  if (problem) throw new ApiError(`bad request body: invalid ${definition.type} attributes: ${problem}`, 400);
  return merged;
}
