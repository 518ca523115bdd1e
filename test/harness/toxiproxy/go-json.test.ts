import { describe, expect, it } from "vitest";
import { decodeStruct, GoJsonError, parseFirstValue } from "../../../harness/toxiproxy/go-json.js";

/** Request-body errors worded as Go's encoding/json words them (the real server's 400 bodies). */
function syntaxError(text: string): string {
  try {
    parseFirstValue(text);
  } catch (error) {
    if (error instanceof GoJsonError) return error.message;
    throw error;
  }
  return "no error";
}

describe("Go-compatible JSON decoding", () => {
  const cases: [string, string, string][] = [
    ["empty body", "", "EOF"],
    ["only spaces", "  \n", "EOF"],
    ["truncated object", '{"name":', "unexpected EOF"],
    ["bad literal", "no", "invalid character 'o' in literal null (expecting 'u')"],
    ["not a value", "hello", "invalid character 'h' looking for beginning of value"],
    ["unquoted key", "{name: 1}", "invalid character 'n' looking for beginning of object key string"],
    ["missing colon", '{"a" 1}', "invalid character '1' after object key"],
    ["missing comma", '{"a":1 "b":2}', "invalid character '\"' after object key:value pair"],
    ["array separator", "[1 2]", "invalid character '2' after array element"],
    ["lonely minus", '{"a":-}', "invalid character '}' in numeric literal"],
    ["bare decimal point", '{"a":1.}', "invalid character '}' after decimal point in numeric literal"],
    ["bad escape", '{"a":"\\q"}', "invalid character 'q' in string escape code"],
    ["quote char", "'x'", "invalid character '\\'' looking for beginning of value"],
  ];
  for (const [label, text, message] of cases) {
    it(`syntax: ${label}`, () => expect(syntaxError(text)).toEqual(message));
  }

  it("reads only the first value, as json.Decoder does", () => {
    expect(parseFirstValue('{"a":1} trailing garbage')).toEqual({ a: 1 });
  });

  it("keeps how a number was written: 1e2 and 1.0 are refused for int64, taken for float32", () => {
    const v = parseFirstValue('{"latency": 1e2, "jitter": 1.0, "toxicity": 5E-1, "rate": 7}');
    expect(() => decodeStruct(v, { latency: "int64" }, "LatencyToxic.attributes", "x")).toThrow(
      "json: cannot unmarshal number 1e2 into Go struct field LatencyToxic.attributes.latency of type int64",
    );
    expect(() => decodeStruct(v, { jitter: "int64" }, "LatencyToxic.attributes", "x")).toThrow(
      "json: cannot unmarshal number 1.0 into Go struct field LatencyToxic.attributes.jitter of type int64",
    );
    expect(decodeStruct(v, { toxicity: "float32", rate: "int64" }, "T", "x")).toEqual({
      toxicity: 0.5,
      rate: 7,
    });
    expect(() =>
      decodeStruct(parseFirstValue('{"toxicity": 1e39}'), { toxicity: "float32" }, "T", "x"),
    ).toThrow("json: cannot unmarshal number 1e39 into Go struct field T.toxicity of type float32");
    // A string that looks like the internal tag stays a string.
    expect(parseFirstValue('{"s": "\\u0000abc:1e2", "n": 2.5}')).toMatchObject({ s: "\u0000abc:1e2" });
  });

  it("a lone surrogate escape becomes U+FFFD, as Go's decoder does", () => {
    expect(parseFirstValue('{"name": "a\\ud800b"}')).toEqual({ name: "a\ufffdb" });
  });

  const fields = { name: "string", enabled: "bool", latency: "int64" } as const;

  it("matches field names case-insensitively, ignores unknown fields and nulls", () => {
    expect(
      decodeStruct({ NAME: "x", Enabled: true, other: 1, latency: null }, fields, "Proxy", "toxiproxy.Proxy"),
    ).toEqual({
      name: "x",
      enabled: true,
    });
  });

  it("null decodes to nothing; other non-objects name the Go type", () => {
    expect(decodeStruct(null, fields, "Proxy", "toxiproxy.Proxy")).toEqual({});
    expect(() => decodeStruct([], fields, "Proxy", "toxiproxy.Proxy")).toThrow(
      "json: cannot unmarshal array into Go value of type toxiproxy.Proxy",
    );
  });

  it("type errors name the struct field and Go type; non-integers into int64 show the number", () => {
    expect(() => decodeStruct({ name: 5 }, fields, "Proxy", "toxiproxy.Proxy")).toThrow(
      "json: cannot unmarshal number into Go struct field Proxy.name of type string",
    );
    expect(() => decodeStruct({ latency: 1.5 }, fields, "LatencyToxic.attributes", "x")).toThrow(
      "json: cannot unmarshal number 1.5 into Go struct field LatencyToxic.attributes.latency of type int64",
    );
    expect(() => decodeStruct({ enabled: "yes" }, fields, "Proxy", "x")).toThrow(
      "json: cannot unmarshal string into Go struct field Proxy.enabled of type bool",
    );
  });
});
