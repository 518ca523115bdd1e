/**
 * A cheap scan that finds how deeply a JSON text nests, counting brackets outside strings, so
 * that a server can refuse a deep body before handing it to a recursive parser (a 200,000-deep
 * array would otherwise exhaust the stack and surface as a 500). It does not validate the
 * JSON: the parser still does that for texts within the limit.
 */

/** Nesting allowed in a request body: far deeper than any real request, far below the stack. */
export const MAX_JSON_DEPTH = 64;

/**
 * The index of the first bracket that opens level `limit + 1`, or -1 when `text` nests no
 * deeper than `limit` (the scan stops at the first excess).
 */
export function excessNesting(text: string, limit: number = MAX_JSON_DEPTH): number {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c /* \ */) i++;
      else if (c === 0x22 /* " */) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b /* [ */ || c === 0x7b /* { */) {
      if (++depth > limit) return i;
    } else if (c === 0x5d /* ] */ || c === 0x7d /* } */) depth--;
  }
  return -1;
}
