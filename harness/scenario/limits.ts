/**
 * Every bound the scenario loader enforces, in one table. A scenario is a small file that
 * drives a lot of work (requests, fault occurrences, samples), so each quantity a file can make
 * large is capped here and checked before anything is expanded or allocated; a message that
 * hits one names the limit and the fix. The bounds are far above what a test needs (the
 * shipped scenarios use under 1% of each) and far below what would exhaust one machine.
 */
export const LIMITS = {
  /** Bytes of one scenario file. */
  fileBytes: 256 * 1024,
  /** Nesting of mappings and lists in the parsed document. */
  depth: 32,
  /** YAML alias expansions (the yaml library's resource-exhaustion guard). */
  aliases: 100,
  /** Items of any one list in the document. */
  listItems: 1_000,
  /** Faults a scenario declares. */
  faults: 100,
  /** Fault occurrences after `repeat`, over all faults (computed, never expanded). */
  occurrences: 1_000,
  /** Occurrences of one fault (`repeat.times`). */
  repeatTimes: 1_000,
  /** Any duration field, and the run length. */
  durationMs: 24 * 3_600_000,
  /** Requests per second of the load (base rate and every stage). */
  rate: 10_000,
  /** Requests the load plans over the run (rate x duration, load bursts included). */
  plannedRequests: 5_000_000,
  /** Requests per second of a steady-state availability probe. */
  probeRate: 1_000,
  /** Tokens one generated request asks for. */
  maxTokens: 65_536,
  /** Requests in flight at once. */
  maxInFlight: 100_000,
  /** Characters of a prompt, input or request body. */
  textChars: 100_000,
} as const;

/** Shortest sensible value of the interval fields; below these the run cannot measure. */
export const MINIMUMS_MS = {
  /** load.deadline: a request needs at least this long to be answered at all. */
  deadline: 10,
  /** scrapeInterval, analysis.window, an uptime SLO's window. */
  interval: 100,
  /** repeat.every. */
  repeatEvery: 100,
  /** Steady-state http check timeout. */
  checkTimeout: 10,
  /** Start timeouts of command and docker targets. */
  startTimeout: 1_000,
} as const;
