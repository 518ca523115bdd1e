/**
 * A small parser for the Prometheus text exposition format (version 0.0.4), enough for what
 * the harness scrapes: sample lines with labels. Written here because common parsers drop or
 * merge labels, and `faultline_breaker_state{backend="worker"}` is only useful with its label.
 * HELP/TYPE/comment lines are skipped; timestamps are ignored.
 */
export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
  /** `name{k="v",...}` with labels in exposition order (`name` alone when unlabelled). */
  readonly key: string;
}

export class ExpositionParseError extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(`line ${line}: ${message}`);
  }
}

const NAME_RE = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL_NAME_RE = /^[a-zA-Z_][a-zA-Z0-9_]*/;

export function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] ?? "").trim();
    if (line === "" || line.startsWith("#")) continue;
    samples.push(parseSampleLine(line, i + 1));
  }
  return samples;
}

function parseSampleLine(line: string, lineNo: number): Sample {
  const name = NAME_RE.exec(line)?.[0];
  if (!name) throw new ExpositionParseError(lineNo, "expected a metric name");
  let pos = name.length;
  let labels: Record<string, string> = {};
  if (line[pos] === "{") {
    const parsed = parseLabels(line, pos + 1, lineNo);
    labels = parsed.labels;
    pos = parsed.end;
  }
  const rest = line.slice(pos).trim().split(/\s+/);
  const value = parseValue(rest[0] ?? "", lineNo);
  return { name, labels, value, key: canonicalKey(name, labels) };
}

function canonicalKey(name: string, labels: Record<string, string>): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
  return parts.length === 0 ? name : `${name}{${parts.join(",")}}`;
}

function escapeLabel(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

/** Parses `k="v",k2="v2"}` starting after the `{`; returns the labels and the index after `}`. */
function parseLabels(
  line: string,
  start: number,
  lineNo: number,
): { labels: Record<string, string>; end: number } {
  const labels: Record<string, string> = {};
  let pos = start;
  for (;;) {
    while (line[pos] === " " || line[pos] === ",") pos++;
    if (line[pos] === "}") return { labels, end: pos + 1 };
    const name = LABEL_NAME_RE.exec(line.slice(pos))?.[0];
    if (!name) throw new ExpositionParseError(lineNo, `expected a label name at column ${pos + 1}`);
    pos += name.length;
    while (line[pos] === " ") pos++;
    if (line[pos] !== "=" || line[pos + 1] !== '"')
      throw new ExpositionParseError(lineNo, `expected ="..." after label ${name}`);
    const value = readQuoted(line, pos + 2, lineNo);
    labels[name] = value.text;
    pos = value.end;
  }
}

function readQuoted(line: string, start: number, lineNo: number): { text: string; end: number } {
  let text = "";
  for (let pos = start; pos < line.length; pos++) {
    const c = line[pos];
    if (c === '"') return { text, end: pos + 1 };
    if (c === "\\") {
      const next = line[++pos];
      text += next === "n" ? "\n" : (next ?? "");
    } else text += c;
  }
  throw new ExpositionParseError(lineNo, "unterminated label value");
}

/**
 * Prometheus reads values with Go's ParseFloat, which takes NaN and Inf in any case; prom-client
 * writes NaN as "Nan" (e.g. nodejs_eventloop_lag_stddev_seconds with no samples in the interval).
 */
function parseValue(text: string, lineNo: number): number {
  switch (text.toLowerCase()) {
    case "+inf":
    case "inf":
      return Infinity;
    case "-inf":
      return -Infinity;
    case "nan":
      return NaN;
    default: {
      const n = Number(text);
      if (text === "" || Number.isNaN(n))
        throw new ExpositionParseError(lineNo, `expected a sample value, found "${text}"`);
      return n;
    }
  }
}

/** Samples as `key -> value`, finite values only (JSON cannot carry Inf/NaN). */
export function toSeries(samples: readonly Sample[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of samples) if (Number.isFinite(s.value)) out[s.key] = s.value;
  return out;
}
