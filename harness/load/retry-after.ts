/**
 * A Retry-After header as the wait it asks for (RFC 9110 §10.2.3): delta-seconds, or an
 * HTTP-date read against the client's wall clock. Returns undefined for a value a client
 * could not act on (absent, empty, negative, not a number or a date), so such an answer counts
 * as shed without a usable Retry-After. Written by hand: two forms, and Date.parse reads the
 * IMF-fixdate and the obsolete forms the RFC asks recipients to accept.
 */
export function retryAfterMs(value: string | undefined, nowEpochMs: number): number | undefined {
  if (value === undefined) return undefined;
  const v = value.trim();
  if (v === "") return undefined;
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  // A date needs a letter (a weekday or month name); digits with a sign or dot are not one.
  if (!/[A-Za-z]/.test(v)) return undefined;
  const at = Date.parse(v);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - nowEpochMs);
}
