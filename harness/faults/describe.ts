import { z } from "zod";
import type { AnyInjector, TargetRole } from "./injector.js";
import { FAULT_KINDS } from "./registry.js";

/** One parameter of a fault kind as `faultline list` shows it, derived from the zod schema. */
export interface ParamDoc {
  readonly name: string;
  readonly type: string;
  readonly required: boolean;
  readonly default?: unknown;
  /** e.g. ">= 0", "0 < x <= 1", "upstream | downstream". */
  readonly constraints: string;
  readonly description?: string;
}

export interface FaultKindDoc {
  readonly kind: string;
  readonly summary: string;
  readonly targets: readonly TargetRole[];
  readonly params: readonly ParamDoc[];
}

interface JsonSchemaProp {
  type?: string;
  enum?: unknown[];
  default?: unknown;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  description?: string;
}

function constraintsOf(p: JsonSchemaProp): string {
  if (p.enum) return p.enum.map(String).join(" | ");
  const parts: string[] = [];
  if (p.exclusiveMinimum !== undefined) parts.push(`> ${p.exclusiveMinimum}`);
  if (p.minimum !== undefined && p.minimum > Number.MIN_SAFE_INTEGER) parts.push(`>= ${p.minimum}`);
  if (p.exclusiveMaximum !== undefined) parts.push(`< ${p.exclusiveMaximum}`);
  if (p.maximum !== undefined && p.maximum < Number.MAX_SAFE_INTEGER) parts.push(`<= ${p.maximum}`);
  return parts.join(", ");
}

export function paramDocs(schema: z.ZodType): ParamDoc[] {
  const json = z.toJSONSchema(schema, { io: "input", unrepresentable: "any" }) as {
    properties?: Record<string, JsonSchemaProp>;
    required?: string[];
  };
  return Object.entries(json.properties ?? {}).map(([name, p]) => ({
    name,
    type: p.enum ? "enum" : (p.type ?? "any"),
    required: (json.required ?? []).includes(name) && p.default === undefined,
    ...(p.default !== undefined ? { default: p.default } : {}),
    constraints: constraintsOf(p),
    ...(p.description ? { description: p.description } : {}),
  }));
}

export function describeFaultKinds(
  registry: Readonly<Record<string, AnyInjector>> = FAULT_KINDS,
): FaultKindDoc[] {
  return Object.entries(registry).map(([kind, inj]) => ({
    kind,
    summary: inj.summary,
    targets: inj.targets,
    params: paramDocs(inj.params),
  }));
}

function formatParam(p: ParamDoc): string {
  const flags = [p.type, p.required ? "required" : "optional", p.constraints].filter(Boolean).join(", ");
  const dflt = p.default !== undefined ? ` (default ${JSON.stringify(p.default)})` : "";
  return `    ${p.name}: ${flags}${dflt}${p.description ? ` - ${p.description}` : ""}`;
}

/** Plain text for `faultline list`. */
export function formatFaultKinds(docs: readonly FaultKindDoc[]): string {
  return docs
    .map((d) => {
      const params = d.params.length ? d.params.map(formatParam).join("\n") : "    (no parameters)";
      return `${d.kind}  [targets: ${d.targets.join(", ")}]\n  ${d.summary}\n${params}`;
    })
    .join("\n\n");
}
