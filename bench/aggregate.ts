import type { BenchRow } from "./row.js";

/**
 * The pure half of `npm run bench` (bench/run.ts): rows of every repeated run grouped by
 * figure into medians, spreads and same-run ratios, and the Markdown table README quotes.
 */
export interface SummaryRow {
  readonly module: string;
  readonly name: string;
  readonly unit: string;
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly baseline: number | null;
  /** Median of the per-run ratios (each ratio against the baseline of its own run). */
  readonly ratio: number | null;
  readonly runs: number;
}

export function median(xs: readonly number[]): number | null {
  const finite = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (finite.length === 0) return null;
  const mid = finite.length >> 1;
  return finite.length % 2 === 1 ? finite[mid] : (finite[mid - 1] + finite[mid]) / 2;
}

/** The row's own ratio, or value / baseline when a module gave only the baseline. */
export function ratioOf(r: BenchRow): number | null {
  if (r.ratio !== undefined) return r.ratio;
  if (r.baseline === undefined || r.baseline === 0) return null;
  return r.value / r.baseline;
}

/** Groups the rows of every run by module and figure name, keeping first-seen order. */
export function summarize(runs: readonly { module: string; rows: readonly BenchRow[] }[]): SummaryRow[] {
  const groups = new Map<string, { module: string; unit: string; name: string; rows: BenchRow[] }>();
  for (const r of runs) {
    for (const row of r.rows) {
      const key = `${r.module}\u0000${row.name}`;
      const g = groups.get(key) ?? { module: r.module, unit: row.unit, name: row.name, rows: [] };
      g.rows.push(row);
      groups.set(key, g);
    }
  }
  return [...groups.values()].map((g) => {
    const values = g.rows.map((x) => x.value).filter((x) => Number.isFinite(x));
    return {
      module: g.module,
      name: g.name,
      unit: g.unit,
      median: median(values) ?? Number.NaN,
      min: values.length ? Math.min(...values) : Number.NaN,
      max: values.length ? Math.max(...values) : Number.NaN,
      baseline: median(g.rows.flatMap((x) => (x.baseline === undefined ? [] : [x.baseline]))),
      ratio: median(g.rows.flatMap((x) => (ratioOf(x) === null ? [] : [ratioOf(x) as number]))),
      runs: g.rows.length,
    };
  });
}

/**
 * Digits by size: whole numbers from 1000, one decimal from 10, three from 0.01, else an
 * exponent. The bands are chosen on the value as it will round, so 9.9996 prints "10.0" like
 * 10 does, not "10.000".
 */
export const fmt = (x: number | null): string => {
  if (x === null || !Number.isFinite(x)) return "–";
  const a = Math.abs(x);
  if (a >= 999.95) return x.toFixed(0);
  if (a >= 9.9995) return x.toFixed(1);
  return a >= 0.01 || a === 0 ? x.toFixed(3) : x.toExponential(2);
};

export function markdownTable(rows: readonly SummaryRow[]): string {
  const head =
    "| figure | median | unit | baseline (same run) | ratio | min–max | runs |\n|---|---:|---|---:|---:|---|---:|";
  const body = rows.map(
    (r) =>
      `| ${r.name} | ${fmt(r.median)} | ${r.unit} | ${fmt(r.baseline)} | ${r.ratio === null ? "–" : `×${fmt(r.ratio)}`} | ${fmt(r.min)}–${fmt(r.max)} | ${r.runs} |`,
  );
  return [head, ...body].join("\n");
}
