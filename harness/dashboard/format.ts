/** Number and time formatting for the dashboard: fixed, locale-free, so frames compare exactly. */

/** m:ss below an hour, h:mm:ss above. */
export function clockTime(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const ss = String(s).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${ss}` : `${m}:${ss}`;
}

/** A countdown: one decimal under 10 s ("4.2s"), then clock time. */
export function countdown(ms: number): string {
  const v = Math.max(0, ms);
  return v < 10_000 ? `${(Math.floor(v / 100) / 10).toFixed(1)}s` : clockTime(v);
}

export function latency(ms: number | null): string {
  if (ms === null) return "-";
  if (ms < 1000) return `${Math.round(ms)}ms`;
  return `${(ms / 1000).toFixed(2)}s`;
}

export function rate(perSecond: number): string {
  return perSecond < 10 ? perSecond.toFixed(1) : String(Math.round(perSecond));
}

export function percent(ratio: number | null, digits = 3): string {
  return ratio === null ? "-" : `${(ratio * 100).toFixed(digits)}%`;
}

export function gib(bytes: number): string {
  return (bytes / 2 ** 30).toFixed(1);
}

const BARS = "▁▂▃▄▅▆▇█";

/** One character per value, scaled from 0 to the largest; a gap for no data. */
export function sparkline(values: readonly (number | null)[]): string {
  const max = values.reduce<number>((m, v) => (v !== null && v > m ? v : m), 0);
  return values
    .map((v) => {
      if (v === null) return " ";
      if (max <= 0) return BARS[0];
      return BARS[Math.min(BARS.length - 1, Math.floor((v / max) * (BARS.length - 1) + 0.5))];
    })
    .join("");
}

/** Cuts to `width` columns, marking the cut with an ellipsis. */
export function fit(text: string, width: number): string {
  return text.length <= width ? text : `${text.slice(0, Math.max(0, width - 1))}…`;
}
