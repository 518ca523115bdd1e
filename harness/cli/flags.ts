import { InvalidArgumentError, Option, type Command } from "commander";
import type { ToxiproxyCommandOptions } from "./commands/toxiproxy.js";
import type { RunFlags } from "./context.js";

/**
 * Flags declared once in a table that is type-checked against the options type (vitest's
 * cli-config): a flag cannot be added without its option, nor an option without its flag.
 * Commander derives the option key from the long flag (`--runs-dir` -> runsDir, `--no-reports`
 * -> reports), which must equal the table key.
 */
interface FlagSpec<T> {
  readonly flags: string;
  readonly description: string;
  readonly parse?: (value: string) => T;
  readonly choices?: readonly string[];
  readonly default?: T;
}

type FlagTable<O> = { readonly [K in keyof O]-?: FlagSpec<O[K]> };

function integer(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw new InvalidArgumentError(`expected an integer, found "${value}"`);
  return n;
}

export const RUN_FLAGS: FlagTable<RunFlags> = {
  runsDir: {
    flags: "--runs-dir <dir>",
    description: "directory for run records (default: the scenario's reporting.dir, usually runs/)",
  },
  seed: { flags: "--seed <n>", description: "override every scenario's seed", parse: integer },
  reports: {
    flags: "--no-reports",
    description: "write only the run record, not the HTML/JUnit/Markdown reports",
  },
  dashboard: { flags: "--no-dashboard", description: "no live dashboard, even on a terminal" },
  progress: {
    flags: "--progress <mode>",
    description: "progress display on stderr",
    choices: ["auto", "lines", "none"],
    default: "auto",
  },
};

export const TOXIPROXY_FLAGS: FlagTable<ToxiproxyCommandOptions> = {
  host: {
    flags: "--host <host>",
    description: "API host (loopback only unless --allow-non-loopback)",
    default: "127.0.0.1",
  },
  port: {
    flags: "--port <port>",
    description: "API port (0 picks a free one)",
    parse: integer,
    default: 8474,
  },
  seed: { flags: "--seed <n>", description: "seed for toxicity and jitter draws", parse: integer },
  config: {
    flags: "--config <file>",
    description: "a JSON populate array applied at start (toxiproxy-server -config)",
  },
  proxyMetrics: {
    flags: "--proxy-metrics",
    description: "serve /metrics with per-link byte counters (toxiproxy-server -proxy-metrics)",
  },
  allowNonLoopback: { flags: "--allow-non-loopback", description: "allow binding a non-loopback address" },
};

export function addFlags<O>(cmd: Command, table: FlagTable<O>): Command {
  for (const spec of Object.values<FlagSpec<unknown>>(table)) {
    const opt = new Option(spec.flags, spec.description);
    if (spec.parse) opt.argParser(spec.parse);
    if (spec.choices) opt.choices(spec.choices);
    if (spec.default !== undefined) opt.default(spec.default);
    cmd.addOption(opt);
  }
  return cmd;
}
