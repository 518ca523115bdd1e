/** `npm run bench` flags: --quick, --only a,b and BENCH_REPEATS (default 3; 1 with --quick). */
export interface BenchArgs {
  readonly quick: boolean;
  readonly only: readonly string[] | null;
  readonly repeats: number;
}

export function parseBenchArgs(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  modules: readonly string[],
): BenchArgs {
  const quick = argv.includes("--quick");
  const i = argv.indexOf("--only");
  const only = i >= 0 ? (argv[i + 1] ?? "").split(",").filter(Boolean) : null;
  // An empty list would run nothing and still print a table: refuse it instead.
  if (only !== null && only.length === 0)
    throw new Error(`--only needs a comma-separated list of modules (one of ${modules.join(", ")})`);
  const raw = env.BENCH_REPEATS;
  const repeats = raw === undefined ? (quick ? 1 : 3) : Number(raw);
  if (!Number.isInteger(repeats) || repeats < 1)
    throw new Error(`BENCH_REPEATS must be an integer >= 1, got "${raw}"`);
  const unknown = (only ?? []).filter((n) => !modules.includes(n));
  if (unknown.length > 0)
    throw new Error(`--only: unknown module ${unknown.join(", ")} (one of ${modules.join(", ")})`);
  return { quick, only, repeats };
}
