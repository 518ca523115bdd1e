/**
 * Request bodies decoded the way Go's encoding/json decodes them in the real server, so that
 * `bad request body: ...` messages match: the same syntax-error wording, the same type-error
 * wording, case-insensitive field names, null leaving a field alone, unknown fields ignored,
 * and only the first JSON value read (trailing bytes are ignored, as json.Decoder does).
 */
import { randomBytes } from "node:crypto";
import { excessNesting } from "../../common/json-depth.js";

/**
 * Nesting refused with Go's "exceeded max depth" message. Go's own limit is 10000, but this
 * recursive scanner overflows Node's stack before that, so the embedded server stops at 1000
 * (a documented difference; no Toxiproxy request nests more than 3 levels).
 */
export const MAX_NESTING_DEPTH = 1000;

/** A decoding failure; `message` is Go's error text (without the "bad request body: " prefix). */
export class GoJsonError extends Error {}

/** Parses the first JSON value of `text`, or throws GoJsonError with Go's message. */
export function parseFirstValue(text: string): unknown {
  // Checked before the recursive scan so that a deep body is Go's 400, not a stack overflow.
  const excess = excessNesting(text, MAX_NESTING_DEPTH);
  if (excess >= 0) throw new GoJsonError(`invalid character ${quoteChar(text[excess])} exceeded max depth`);
  const scanner = new Scanner(text);
  scanner.skipSpace();
  if (scanner.atEnd()) throw new GoJsonError("EOF");
  const start = scanner.pos;
  scanner.value();
  return parseKeepingLiterals(text.slice(start, scanner.pos), scanner.fractionalLiterals, start);
}

/**
 * A number written with a fraction or an exponent (`1.0`, `1e2`). Go decodes the literal, not
 * its value: such a number is refused for an integer field ("cannot unmarshal number 1e2"),
 * which JSON.parse alone cannot tell from `100`.
 */
export class GoNumberLiteral {
  constructor(
    readonly value: number,
    readonly text: string,
  ) {}
}

/**
 * Go's decoder replaces a lone UTF-16 surrogate escape (`"\ud800"`) with U+FFFD; JSON.parse
 * keeps it, and a name holding one cannot be written back as valid UTF-8. Done as Go does.
 * (String.prototype.toWellFormed is in Node 20; the ES2023 lib does not declare it yet.)
 */
function wellFormed(v: unknown): unknown {
  return typeof v === "string" ? (v as string & { toWellFormed(): string }).toWellFormed() : v;
}

/**
 * JSON.parse, with each fractional/exponent literal (found by the scanner) kept as a
 * GoNumberLiteral: the literal is swapped for a string carrying a per-call random tag, and the
 * reviver turns those strings back. The tag cannot collide with a string in the body.
 */
function parseKeepingLiterals(
  json: string,
  literals: readonly { start: number; end: number }[],
  offset: number,
): unknown {
  if (literals.length === 0) return JSON.parse(json, (_key, v: unknown) => wellFormed(v)) as unknown;
  // The tag as written inside a JSON string (an escaped NUL, which JSON text cannot hold raw).
  const tag = `\\u0000${randomBytes(8).toString("hex")}:`;
  let rewritten = "";
  let at = 0;
  for (const { start, end } of literals) {
    rewritten += `${json.slice(at, start - offset)}"${tag}${json.slice(start - offset, end - offset)}"`;
    at = end - offset;
  }
  rewritten += json.slice(at);
  const marker = JSON.parse(`"${tag}"`) as string;
  return JSON.parse(rewritten, (_key, v: unknown) =>
    typeof v === "string" && v.startsWith(marker)
      ? new GoNumberLiteral(Number(v.slice(marker.length)), v.slice(marker.length))
      : wellFormed(v),
  ) as unknown;
}

function quoteChar(c: string): string {
  if (c === "'") return "'\\''";
  if (c === '"') return "'\"'";
  return `'${JSON.stringify(c).slice(1, -1)}'`;
}

class Scanner {
  pos = 0;
  /** Number literals with a fraction or an exponent, as [start, end) offsets in the text. */
  readonly fractionalLiterals: { start: number; end: number }[] = [];
  constructor(private readonly text: string) {}

  atEnd(): boolean {
    return this.pos >= this.text.length;
  }

  skipSpace(): void {
    while (!this.atEnd() && " \t\r\n".includes(this.text[this.pos])) this.pos++;
  }

  private peek(): string {
    if (this.atEnd()) throw new GoJsonError("unexpected EOF");
    return this.text[this.pos];
  }

  private fail(context: string): never {
    throw new GoJsonError(`invalid character ${quoteChar(this.peek())} ${context}`);
  }

  value(): void {
    const c = this.peek();
    if (c === "{") return this.object();
    if (c === "[") return this.array();
    if (c === '"') return this.string();
    if (c === "-" || (c >= "0" && c <= "9")) return this.number();
    for (const word of ["true", "false", "null"]) if (c === word[0]) return this.literal(word);
    this.fail("looking for beginning of value");
  }

  private literal(word: string): void {
    for (let i = 0; i < word.length; i++, this.pos++) {
      if (this.peek() !== word[i]) this.fail(`in literal ${word} (expecting ${quoteChar(word[i])})`);
    }
  }

  private object(): void {
    this.pos++;
    this.skipSpace();
    if (this.peek() === "}") {
      this.pos++;
      return;
    }
    for (;;) {
      if (this.peek() !== '"') this.fail("looking for beginning of object key string");
      this.string();
      this.skipSpace();
      if (this.peek() !== ":") this.fail("after object key");
      this.pos++;
      this.skipSpace();
      this.value();
      this.skipSpace();
      const c = this.peek();
      this.pos++;
      if (c === "}") return;
      if (c !== ",") {
        this.pos--;
        this.fail("after object key:value pair");
      }
      this.skipSpace();
    }
  }

  private array(): void {
    this.pos++;
    this.skipSpace();
    if (this.peek() === "]") {
      this.pos++;
      return;
    }
    for (;;) {
      this.value();
      this.skipSpace();
      const c = this.peek();
      this.pos++;
      if (c === "]") return;
      if (c !== ",") {
        this.pos--;
        this.fail("after array element");
      }
      this.skipSpace();
    }
  }

  private string(): void {
    this.pos++;
    for (;;) {
      const c = this.peek();
      if (c === '"') {
        this.pos++;
        return;
      }
      if (c < " ") this.fail("in string literal");
      this.pos++;
      if (c === "\\") this.escape();
    }
  }

  private escape(): void {
    const c = this.peek();
    if (!'"\\/bfnrtu'.includes(c)) this.fail("in string escape code");
    this.pos++;
    if (c !== "u") return;
    for (let i = 0; i < 4; i++, this.pos++) {
      if (!/[0-9a-fA-F]/.test(this.peek())) this.fail("in \\u hexadecimal character escape");
    }
  }

  private number(): void {
    const start = this.pos;
    let fractional = false;
    if (this.peek() === "-") this.pos++;
    if (this.peek() === "0") this.pos++;
    else this.digits("in numeric literal");
    if (!this.atEnd() && this.text[this.pos] === ".") {
      fractional = true;
      this.pos++;
      this.digits("after decimal point in numeric literal");
    }
    if (!this.atEnd() && (this.text[this.pos] === "e" || this.text[this.pos] === "E")) {
      fractional = true;
      this.pos++;
      if (this.peek() === "+" || this.peek() === "-") this.pos++;
      this.digits("in exponent of numeric literal");
    }
    if (fractional) this.fractionalLiterals.push({ start, end: this.pos });
  }

  private digits(context: string): void {
    if (!/[0-9]/.test(this.peek())) this.fail(context);
    while (!this.atEnd() && /[0-9]/.test(this.text[this.pos])) this.pos++;
  }
}

/** A Go field type; `struct:<name>` is a nested struct named so in messages. */
export type GoKind = "string" | "bool" | "int64" | "int" | "float32" | `struct:${string}`;

/** Go's name for the JSON kind of a value, as in "cannot unmarshal <kind>". */
export function jsonKind(value: unknown): string {
  if (value instanceof GoNumberLiteral) return "number";
  if (Array.isArray(value)) return "array";
  if (typeof value === "boolean") return "bool";
  return typeof value === "object" ? "object" : typeof value;
}

function fits(value: unknown, kind: GoKind): boolean {
  switch (kind) {
    case "string":
      return typeof value === "string";
    case "bool":
      return typeof value === "boolean";
    case "int64":
    case "int":
      // A GoNumberLiteral (1.0, 1e2) is refused here, as Go refuses it.
      return typeof value === "number" && Number.isSafeInteger(value);
    case "float32": {
      const n = value instanceof GoNumberLiteral ? value.value : value;
      return typeof n === "number" && Math.abs(n) <= FLOAT32_MAX;
    }
    default:
      return (
        typeof value === "object" &&
        value !== null &&
        !Array.isArray(value) &&
        !(value instanceof GoNumberLiteral)
      );
  }
}

const FLOAT32_MAX = 3.4028234663852886e38;

function typeError(value: unknown, kind: GoKind, where: string): GoJsonError {
  const literal =
    value instanceof GoNumberLiteral ? value.text : typeof value === "number" ? String(value) : null;
  const numeric = kind === "int" || kind === "int64" || kind === "float32";
  const shown = literal !== null && numeric ? `number ${literal}` : jsonKind(value);
  const type = kind.startsWith("struct:") ? kind.slice("struct:".length) : kind;
  return new GoJsonError(`json: cannot unmarshal ${shown} into Go struct field ${where} of type ${type}`);
}

/**
 * Decodes `value` into a struct with `fields`, returning only the fields present (non-null).
 * `path` names the struct in messages ("Proxy", "LatencyToxic.attributes"); `goType` is the
 * type named when the value is not an object at all ("toxiproxy.Proxy").
 */
export function decodeStruct<F extends Record<string, GoKind>>(
  value: unknown,
  fields: F,
  path: string,
  goType: string,
): Partial<Record<keyof F, unknown>> {
  const out: Partial<Record<keyof F, unknown>> = {};
  if (value === null) return out;
  if (typeof value !== "object" || Array.isArray(value)) {
    throw new GoJsonError(`json: cannot unmarshal ${jsonKind(value)} into Go value of type ${goType}`);
  }
  for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
    const field = matchField(Object.keys(fields), key);
    if (field === undefined || item === null) continue;
    const kind = fields[field];
    if (!fits(item, kind)) throw typeError(item, kind, `${path}.${field}`);
    out[field as keyof F] = item instanceof GoNumberLiteral ? item.value : item;
  }
  return out;
}

function matchField(names: readonly string[], key: string): string | undefined {
  return names.find((name) => name === key) ?? names.find((name) => name.toLowerCase() === key.toLowerCase());
}
