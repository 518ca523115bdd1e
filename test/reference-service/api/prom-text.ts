/**
 * A strict reader of the Prometheus text exposition format (0.0.4), enough to check that
 * /metrics is valid and to read samples with their labels. Throws on the first bad line.
 */
export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(["counter", "gauge", "histogram", "summary", "untyped"]);

function parseLabels(text: string, line: string): Record<string, string> {
  const labels: Record<string, string> = {};
  let i = 0;
  while (i < text.length) {
    const eq = text.indexOf("=", i);
    const key = text.slice(i, eq);
    if (eq < 0 || !LABEL.test(key) || text[eq + 1] !== '"') throw new Error(`bad label in: ${line}`);
    let j = eq + 2;
    let value = "";
    while (j < text.length && text[j] !== '"') {
      if (text[j] === "\\") {
        const n = text[j + 1];
        value += n === "n" ? "\n" : n;
        j += 2;
      } else value += text[j++];
    }
    if (text[j] !== '"') throw new Error(`unterminated label value in: ${line}`);
    labels[key] = value;
    i = j + 1;
    if (text[i] === ",") i++;
  }
  return labels;
}

function parseValue(text: string, line: string): number {
  // Prometheus parses values with Go's ParseFloat: NaN and Inf in any letter case.
  const lower = text.toLowerCase();
  if (lower === "+inf" || lower === "inf") return Infinity;
  if (lower === "-inf") return -Infinity;
  if (lower === "nan") return NaN;
  const v = Number(text);
  if (text === "" || Number.isNaN(v)) throw new Error(`bad value in: ${line}`);
  return v;
}

function parseComment(line: string, types: Map<string, string>): void {
  const m = /^# (HELP|TYPE) (\S+)(?: (.*))?$/.exec(line);
  const name = m?.[2] ?? "";
  if (!m || !NAME.test(name)) throw new Error(`bad comment line: ${line}`);
  if (m[1] !== "TYPE") return;
  if (!TYPES.has(m[3] ?? "") || types.has(name)) throw new Error(`bad TYPE: ${line}`);
  types.set(name, m[3] ?? "");
}

function parseSample(line: string, types: Map<string, string>): Sample {
  const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: -?\d+)?$/.exec(line);
  if (!m) throw new Error(`bad sample line: ${line}`);
  const name = m[1] ?? "";
  const base = /^(.*)_(bucket|sum|count|total|created)$/.exec(name)?.[1];
  if (!types.has(name) && !(base !== undefined && types.has(base)))
    throw new Error(`sample without a TYPE: ${line}`);
  return { name, labels: parseLabels(m[2] ?? "", line), value: parseValue(m[3] ?? "", line) };
}

export function parseExposition(text: string): { samples: Sample[]; types: Map<string, string> } {
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  for (const line of text.split("\n")) {
    if (line === "") continue;
    if (line.startsWith("#")) parseComment(line, types);
    else samples.push(parseSample(line, types));
  }
  return { samples, types };
}

export function sampleValue(
  samples: readonly Sample[],
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  const hit = samples.find(
    (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  );
  return hit?.value;
}
