/** Splits text into word-sized tokens that concatenate back to the text. */
export function toTokens(text: string): string[] {
  return text.match(/\S+\s*|\s+/g) ?? [];
}

/** FNV-1a, for deterministic pseudo-content derived from a prompt. */
export function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** Rough token count of a prompt (words), for usage figures of fallback answers. */
export const countTokens = (text: string): number => Math.max(1, toTokens(text).length);
