import { z } from "zod";
import { LIMITS } from "./limits.js";

/**
 * Durations in scenario files are strings with a unit, always: "250ms", "20s", "1.5m", "1h".
 * One syntax only (no bare numbers) so that `duration: 5` can never mean 5 ms to one reader
 * and 5 s to another; the loader rejects a bare number with a hint showing the unit form.
 */
const DURATION_RE = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/;

const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 } as const;

/** Parses "20s" to 20000; returns null when the text is not a duration. */
export function parseDuration(text: string): number | null {
  const m = DURATION_RE.exec(text.trim());
  if (!m) return null;
  const unit = m[2] as keyof typeof UNIT_MS;
  return Math.round(Number(m[1]) * UNIT_MS[unit]);
}

/** Renders milliseconds the way a scenario would write them (for `faultline plan`). */
export function formatDuration(ms: number): string {
  if (ms === 0) return "0s";
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0 && ms >= 60_000) return `${ms / 60_000}m`;
  if (ms % 1_000 === 0) return `${ms / 1_000}s`;
  if (ms > 1_000) return `${(ms / 1_000).toFixed(3).replace(/0+$/, "")}s`;
  return `${ms}ms`;
}

/**
 * A duration field: input is the string form, output is milliseconds. Every duration is at
 * most LIMITS.durationMs; `minMs` is the field's own floor (an interval of 0s cannot work).
 */
export const duration = (minMs = 0): z.ZodPipe<z.ZodString, z.ZodTransform<number, string>> =>
  z
    .string({
      error: (iss) =>
        iss.input === undefined
          ? "required"
          : `expected a duration string such as "5s" or "250ms", found ${describeValue(iss.input)}`,
    })
    .regex(DURATION_RE, {
      error: (iss) =>
        String(iss.input).trim().startsWith("-")
          ? `expected a non-negative duration, found ${quoteText(String(iss.input))}`
          : `expected a duration such as "5s", "250ms" or "2m", found ${quoteText(String(iss.input))}`,
    })
    .transform((s, ctx) => {
      const ms = parseDuration(s) ?? 0;
      if (ms > LIMITS.durationMs)
        ctx.issues.push({
          code: "custom",
          input: s,
          message: `expected a duration of at most ${formatDuration(LIMITS.durationMs)} (the limit for any duration), found ${quoteText(s)}`,
        });
      else if (ms < minMs)
        ctx.issues.push({
          code: "custom",
          input: s,
          message: `expected a duration of at least ${formatDuration(minMs)}, found ${quoteText(s)}`,
        });
      return ms;
    })
    .meta({
      description: `Duration with unit: ms, s, m or h (e.g. "250ms", "20s", "1.5m"); at most 24h${minMs > 0 ? `, at least ${formatDuration(minMs)}` : ""}.`,
    });

export function describeValue(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "a list";
  if (typeof v === "object") return "a mapping";
  if (typeof v === "string") return quoteText(v);
  if (typeof v === "number" || typeof v === "boolean" || typeof v === "bigint") return `${typeof v} ${v}`;
  return typeof v;
}

/** Input text as a message shows it: quoted, control characters escaped, long text cut. */
export function quoteText(text: string): string {
  const shown = text.length > 60 ? `${text.slice(0, 60)}...` : text;
  return JSON.stringify(shown);
}
