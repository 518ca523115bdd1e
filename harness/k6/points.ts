import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";
import { InvalidInputError } from "../../common/errors.js";

/**
 * Reader for k6's `--out json=FILE` output: newline-delimited JSON, one object per line,
 *   {"type":"Metric","data":{"type":"trend","contains":"time","thresholds":[...],...},"metric":"http_req_duration"}
 *   {"type":"Point","data":{"time":"2017-05-09T14:34:45.239531499+02:00","value":459.86,"tags":{...},
 *    "metadata":{...}},"metric":"http_req_duration"}
 * (grafana.com/docs/k6/latest/results-output/real-time/json). A Metric line declares a metric
 * once, before its first Point; `tags` may be null; `metadata` is absent when empty.
 */
export interface K6MetricInfo {
  readonly type: "counter" | "gauge" | "rate" | "trend";
  readonly contains: string;
  readonly thresholds: readonly string[];
}

export interface K6Point {
  readonly metric: string;
  /** Epoch ms, sub-millisecond digits kept (k6 writes nanoseconds). */
  readonly timeMs: number;
  readonly value: number;
  readonly tags: Readonly<Record<string, string>>;
  readonly metadata: Readonly<Record<string, string>>;
}

export interface K6Points {
  readonly metrics: Readonly<Record<string, K6MetricInfo>>;
  readonly points: readonly K6Point[];
}

const TIME_RE = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})$/;

/** RFC 3339 with up to nanoseconds to epoch ms; Date.parse alone would drop the sub-ms digits. */
export function parseK6Time(text: string): number | null {
  const m = TIME_RE.exec(text);
  if (!m) return null;
  const whole = Date.parse(`${m[1]}${m[3]}`);
  if (Number.isNaN(whole)) return null;
  // Integer nanoseconds first, so ".043600000" is exactly 43.6 ms before it is added.
  const nanos = m[2] === undefined ? 0 : Number(m[2].padEnd(9, "0").slice(0, 9));
  return whole + nanos / 1e6;
}

type Line =
  | { readonly ok: true; readonly value: K6Point | [string, K6MetricInfo] | null }
  | { readonly ok: false; readonly message: string };

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

function stringMap(v: unknown): Record<string, string> {
  if (!isRecord(v)) return {};
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(v)) out[k] = String(x);
  return out;
}

function parseMetric(metric: string, data: Record<string, unknown>): Line {
  const type = data.type;
  if (type !== "counter" && type !== "gauge" && type !== "rate" && type !== "trend")
    return { ok: false, message: `metric ${metric}: unknown type ${JSON.stringify(type)}` };
  const thresholds = Array.isArray(data.thresholds) ? data.thresholds.map(String) : [];
  return {
    ok: true,
    value: [
      metric,
      { type, contains: typeof data.contains === "string" ? data.contains : "default", thresholds },
    ],
  };
}

function parsePoint(metric: string, data: Record<string, unknown>): Line {
  const timeMs = typeof data.time === "string" ? parseK6Time(data.time) : null;
  if (timeMs === null) return { ok: false, message: `point of ${metric}: "time" is not an RFC 3339 time` };
  if (typeof data.value !== "number")
    return { ok: false, message: `point of ${metric}: "value" is not a number` };
  return {
    ok: true,
    value: {
      metric,
      timeMs,
      value: data.value,
      tags: stringMap(data.tags),
      metadata: stringMap(data.metadata),
    },
  };
}

function parseLine(text: string): Line {
  let obj: unknown;
  try {
    obj = JSON.parse(text);
  } catch {
    return { ok: false, message: "not JSON" };
  }
  if (!isRecord(obj) || typeof obj.metric !== "string" || !isRecord(obj.data))
    return { ok: false, message: 'expected {"type", "metric", "data"}' };
  if (obj.type === "Metric") return parseMetric(obj.metric, obj.data);
  if (obj.type === "Point") return parsePoint(obj.metric, obj.data);
  // Types a later k6 may add are skipped rather than refused.
  return { ok: true, value: null };
}

/** Accepts k6's output line by line; every bad line is reported at once, by line number, at the end. */
class K6LineReader {
  readonly metrics: Record<string, K6MetricInfo> = {};
  private readonly issues: { file: string; path: string; message: string }[] = [];

  constructor(
    private readonly file: string,
    private readonly onPoint: (p: K6Point) => void,
  ) {}

  line(raw: string, lineNumber: number): void {
    const line = raw.trim();
    if (line === "") return;
    const r = parseLine(line);
    if (!r.ok) {
      // The first 20 are what the message shows; counting on would only hold memory.
      if (this.issues.length < 20)
        this.issues.push({ file: `${this.file}:${lineNumber}`, path: "", message: r.message });
    } else if (Array.isArray(r.value)) this.metrics[r.value[0]] = r.value[1];
    else if (r.value) this.onPoint(r.value);
  }

  finish(): Readonly<Record<string, K6MetricInfo>> {
    if (this.issues.length > 0)
      throw new InvalidInputError(this.issues, "expected the file `k6 run --out json=FILE` writes");
    return this.metrics;
  }
}

/** Parses the whole output held in memory; every bad line is reported at once, by line number. */
export function parseK6Points(text: string, file = "k6 output"): K6Points {
  const points: K6Point[] = [];
  const reader = new K6LineReader(file, (p) => points.push(p));
  text.split("\n").forEach((raw, i) => reader.line(raw, i + 1));
  return { metrics: reader.finish(), points };
}

/**
 * Streams a k6 output file line by line, handing each point to `onPoint` and keeping none.
 * Why not readFile: k6 writes several points per request (a few hundred bytes each), so a
 * run of ten minutes at 1,000 req/s is gigabytes, beyond what one string can hold.
 */
export async function readK6PointsFile(
  file: string,
  onPoint: (p: K6Point) => void,
): Promise<Readonly<Record<string, K6MetricInfo>>> {
  const reader = new K6LineReader(file, onPoint);
  const lines = createInterface({ input: createReadStream(file, { encoding: "utf8" }), crlfDelay: Infinity });
  let n = 0;
  for await (const line of lines) reader.line(line, ++n);
  return reader.finish();
}
