/**
 * Deterministic stand-ins for what a model computes: a token count for a prompt, the words a
 * generation produces, embedding vectors, and how long each step takes. Same input, same
 * output, so answers can be cached and tests can expect exact text.
 */
import type { CatalogModel } from "../ipc/protocol.js";

const VOCABULARY = [
  "the",
  "model",
  "serves",
  "tokens",
  "under",
  "load",
  "while",
  "faults",
  "come",
  "and",
  "go",
  "latency",
  "stays",
  "within",
  "budget",
  "a",
  "worker",
  "restarts",
  "quickly",
  "memory",
  "is",
  "accounted",
  "for",
  "each",
  "request",
  "stream",
  "ends",
  "cleanly",
  "on",
  "time",
  "ready",
  "now",
];

/** FNV-1a 32-bit: a tiny, stable hash (no crypto needed for simulated content). */
export function fnv1a(text: string, seed = 0x811c9dc5): number {
  let h = seed >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** Whitespace-separated words, at least 1: the simulated tokenizer. */
export function countTokens(text: string): number {
  const words = text
    .trim()
    .split(/\s+/)
    .filter((w) => w.length > 0).length;
  return Math.max(1, words);
}

/** How many tokens the model "wants" to produce for this prompt (8..39), before max_tokens. */
export function naturalLength(prompt: string): number {
  return 8 + (fnv1a(prompt) % 32);
}

/** The text of output token `index` (each token but the first starts with a space). */
export function tokenText(prompt: string, index: number): string {
  const word = VOCABULARY[fnv1a(`${index}`, fnv1a(prompt)) % VOCABULARY.length] ?? "token";
  return index === 0 ? word : ` ${word}`;
}

/** A unit-length vector of `dim` components derived from the text. */
export function embed(text: string, dim: number): number[] {
  const raw: number[] = [];
  let h = fnv1a(text);
  for (let i = 0; i < dim; i++) {
    h = fnv1a(String(i), h);
    raw.push((h / 0xffffffff) * 2 - 1);
  }
  const norm = Math.sqrt(raw.reduce((s, v) => s + v * v, 0)) || 1;
  return raw.map((v) => Math.round((v / norm) * 1e6) / 1e6);
}

export type LatencyModel = Pick<CatalogModel, "prefillMs" | "prefillMsPerToken" | "msPerToken">;

/** Time to process the prompt before the first token. */
export function prefillMs(model: LatencyModel, promptTokens: number): number {
  return model.prefillMs + model.prefillMsPerToken * promptTokens;
}

/** Time from one output token to the next. */
export function interTokenMs(model: LatencyModel): number {
  return model.msPerToken;
}
