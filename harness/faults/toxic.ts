import { Toxiproxy, type ToxicType } from "toxiproxy-node-client";
import { z } from "zod";
import { FaultError } from "../../common/errors.js";
import { CarrierGoneError, isListening } from "./carrier.js";
import type { FaultContext, Injector, PendingContext } from "./injector.js";
import { occurrenceIdOf, plantedName } from "./occurrence.js";

/**
 * The shared part of the Toxiproxy kinds: one file per toxic type declares its attributes and
 * calls toxicInjector. The toxic is named after the occurrence, so revert (and cleanup, from
 * the journal alone) deletes exactly the toxic this fault added and nothing else.
 */
export const streamSchema = z.enum(["upstream", "downstream"]).default("downstream");
export const toxicitySchema = z.number().min(0).max(1).default(1);
/** Milliseconds (or bytes) as Toxiproxy's int64 attributes take them. */
export const nonNegInt = z.number().int().nonnegative();

export type ToxicState = { url: string; proxy: string; toxic: string };
export type LinkRef = { url: string; proxy: string };

export function linkOf(targetName: string, toxiproxy: PendingContext["toxiproxy"] | undefined): LinkRef {
  const [role, link] = targetName.split(":");
  if (role !== "link" || !link) throw new FaultError(`target "${targetName}" is not a link (link:<name>)`);
  if (!toxiproxy)
    throw new FaultError(
      `target "${targetName}" has no Toxiproxy`,
      "set TOXIPROXY_URL or use the embedded server",
    );
  const proxy = toxiproxy.links[link];
  if (!proxy) {
    const known = Object.keys(toxiproxy.links).join(", ") || "none";
    throw new FaultError(`no link named "${link}" (known links: ${known})`);
  }
  return { url: toxiproxy.url, proxy };
}

/** The client discards error bodies; its message ends with the status, which is all we get. */
export const isNotFound = (e: unknown): boolean => e instanceof Error && / 404$/.test(e.message);

export async function removeToxic(s: ToxicState): Promise<void> {
  try {
    const proxy = await new Toxiproxy(s.url).get(s.proxy);
    const toxic = await proxy.getToxic(s.toxic);
    await toxic.remove();
  } catch (e) {
    if (isNotFound(e)) return; // proxy or toxic already gone: reverted
    // Toxiproxy keeps toxics in memory: with nothing listening, no toxic of it is in effect.
    // (The client drops the error's cause, so ask the port directly.)
    if (!(await isListening(s.url)))
      throw new CarrierGoneError(`the Toxiproxy at ${s.url} is not running, so its toxic went with it`);
    throw e;
  }
}

interface ToxicSpec<A extends z.ZodRawShape> {
  readonly kind: string;
  readonly type: ToxicType;
  readonly summary: string;
  readonly attributes: A;
  describe(attrs: z.infer<z.ZodObject<A>>): string;
}

type ToxicParams<A extends z.ZodRawShape> = z.infer<z.ZodObject<A>> & {
  stream: "upstream" | "downstream";
  toxicity: number;
};

export function toxicInjector<A extends z.ZodRawShape>(
  spec: ToxicSpec<A>,
): Injector<ToxicParams<A>, ToxicState> {
  const params = z.strictObject({ ...spec.attributes, stream: streamSchema, toxicity: toxicitySchema });
  return {
    kind: spec.kind,
    summary: spec.summary,
    params: params as unknown as z.ZodType<ToxicParams<A>>,
    targets: ["link"],
    isInstant: () => false,
    describe: (p, target) =>
      `${spec.describe(p)} on ${target} ${p.stream}${p.toxicity < 1 ? ` (toxicity ${p.toxicity})` : ""}`,
    async inject(p, ctx: FaultContext) {
      const link = linkOf(ctx.targetName, ctx.target.toxiproxy);
      const { stream, toxicity, ...attributes } = p;
      const name = plantedName(occurrenceIdOf(ctx));
      const proxy = await new Toxiproxy(link.url).get(link.proxy);
      await proxy.addToxic({ name, type: spec.type, stream, toxicity, attributes });
      return { url: link.url, proxy: link.proxy, toxic: name };
    },
    revert: (s) => removeToxic(s),
    async revertPending(_p, pending) {
      const link = linkOf(pending.targetName, pending.toxiproxy);
      await removeToxic({ ...link, toxic: plantedName(pending.occurrenceId) });
    },
  };
}
