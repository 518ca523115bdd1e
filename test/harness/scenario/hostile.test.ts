import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InvalidInputError } from "../../../common/errors.js";
import { FAULT_KINDS } from "../../../harness/faults/registry.js";
import { loadScenarios, parseScenario } from "../../../harness/scenario/load.js";

/** One hostile change per class of issue 19, each applied to a shipped scenario. */
const BASE = await readFile("scenarios/ci/01-worker-crash.yaml", "utf8");

const problems = (text: string): string[] => {
  const started = performance.now();
  const r = parseScenario(text, "s.yaml", FAULT_KINDS);
  // Every limit is checked before expansion: no hostile file takes long to refuse.
  expect(performance.now() - started).toBeLessThan(2_000);
  return r.ok ? [] : r.issues.map((i) => `${i.path}: ${i.message}${i.hint ? ` (fix: ${i.hint})` : ""}`);
};

const edit = (from: string, to: string): string => {
  expect(BASE).toContain(from);
  return BASE.replace(from, to);
};

describe("hostile scenario input: refused by name, fast, before any expansion", () => {
  it("repeat times beyond the limit (no expansion of 10,000,000 occurrences)", () => {
    const p = problems(edit("    at: 4s\n", "    at: 4s\n    repeat: { every: 1ms, times: 10000000 }\n"));
    expect(p).toContain('faults[0].repeat.every: expected a duration of at least 100ms, found "1ms"');
    expect(p.some((x) => x.startsWith("faults[0].repeat.times: expected at most 1000 occurrences"))).toBe(
      true,
    );
  });

  it("too many faults, and too many occurrences over all faults, counted arithmetically", () => {
    const faults = Array.from(
      { length: 101 },
      (_, i) => `  - { id: f${i}, kind: process-kill, target: worker, at: 4s }`,
    );
    const many = BASE.replace(
      /faults:\n {2}- id: kill-worker\n(?: {4}.*\n)+/,
      `faults:\n${faults.join("\n")}\n`,
    );
    expect(
      problems(many).some((x) => x.includes("expected at most 100 items (the limit for this list)")),
    ).toBe(true);
    const repeats = Array.from(
      { length: 3 },
      (_, i) =>
        `  - { id: f${i}, kind: process-kill, target: worker, at: 1s, repeat: { every: 100ms, times: 400 } }`,
    );
    const long = many
      .replace(/faults:\n(?: {2}- .*\n)+/, `faults:\n${repeats.join("\n")}\n`)
      .replace("duration: 15s", "duration: 5m");
    expect(problems(long)[0]).toBe(
      "faults: 1200 fault occurrences (repeats included), more than 1000 (the limit for fault occurrences) (fix: lower repeat.times or split the scenario)",
    );
  });

  it("a duration beyond 24h, and planned requests beyond the limit", () => {
    expect(problems(edit("duration: 15s", "duration: 99999999999h"))).toEqual([
      'load.duration: expected a duration of at most 24h (the limit for any duration), found "99999999999h"',
    ]);
    expect(problems(edit("rate: 20\n  duration: 15s", "rate: 10000\n  duration: 10h"))[0]).toMatch(
      /^load\.rate: about 360000000 requests planned \(rate x duration\), more than 5000000 \(the limit for planned requests\)/,
    );
  });

  it("a fault kind that names an Object.prototype member is an unknown kind", () => {
    for (const kind of ["constructor", "toString", "__proto__", "hasOwnProperty"])
      expect(problems(edit("kind: process-kill", `kind: ${kind}`))[0]).toMatch(
        new RegExp(`^faults\\[0\\]\\.kind: unknown fault kind "${kind}"`),
      );
  });

  it("a YAML alias bomb and deep nesting are input problems naming the limit", () => {
    let bomb = 'a: &a ["x","x","x","x","x","x","x","x","x"]\n';
    for (let i = 1, prev = "a"; i < 10; i++) {
      const name = `n${i}`;
      bomb += `${name}: &${name} [${Array(9).fill(`*${prev}`).join(",")}]\n`;
      prev = name;
    }
    expect(problems(bomb + BASE)[0]).toMatch(
      /aliases expand to more than 100 nodes \(the limit for aliases\)/,
    );
    const deep = `${BASE}deep: ${"[".repeat(5000)}${"]".repeat(5000)}\n`;
    expect(problems(deep)[0]).toMatch(/nested deeper than 32 levels \(the limit for nesting\)/);
    const deepMap = `${BASE.replace("kind: reference\n", `kind: reference\n  options: ${"{ a: ".repeat(40)}1${" }".repeat(40)}\n`)}`;
    expect(problems(deepMap)[0]).toMatch(/nested deeper than 32 levels/);
  });

  it("intervals, windows and deadlines have a floor", () => {
    expect(problems(`${BASE}analysis: { window: 0s }\n`)).toEqual([
      'analysis.window: expected a duration of at least 100ms, found "0s"',
    ]);
    expect(problems(edit("deadline: 5s", "deadline: 0ms"))).toEqual([
      'load.deadline: expected a duration of at least 10ms, found "0ms"',
    ]);
    expect(problems(`${BASE}scrapeInterval: 0ms\n`)).toEqual([
      'scrapeInterval: expected a duration of at least 100ms, found "0ms"',
    ]);
  });

  it("URLs the harness will fetch are http or https only", () => {
    const url = (u: string): string =>
      `name: u\ntarget: { kind: url, baseUrl: "${u}" }\nload: { rate: 1, duration: 2s, mix: [{ kind: http, path: /x }] }\nslos: [{ kind: availability, min: 0.9 }]\n`;
    expect(problems(url("file:///etc/passwd"))).toEqual([
      'target.baseUrl: expected an http:// or https:// URL, found "file:///etc/passwd"',
    ]);
    expect(problems(url("gopher://127.0.0.1:70/"))).toHaveLength(1);
    expect(problems(url("http://127.0.0.1:9"))).toEqual([]);
    expect(
      problems(edit("url: /health/ready, status: 200, within: 10s", "url: file:///x, status: 200"))[0],
    ).toMatch(
      /^steadyState\.before\[0\]\.url: expected a path starting with \/ or an http:\/\/ or https:\/\/ URL/,
    );
    expect(
      problems(edit("kind: reference\n", 'kind: reference\n  options: { upstream: "gopher://x/" }\n')),
    ).toEqual(['target.options.upstream: expected an http:// or https:// URL, found "gopher://x/"']);
  });

  it("request header names and values node:http would refuse", () => {
    const mix = (headers: string): string =>
      edit(
        "- { kind: chat, model: sim-utility, maxTokens: 8, weight: 3 }",
        `- { kind: http, path: /v1/models, headers: ${headers} }`,
      );
    expect(problems(mix('{ x-a: "a\\r\\nb: c" }'))).toEqual([
      'load.mix[0].headers.x-a: invalid header value "a\\r\\nb: c" (no CR, LF or other control characters)',
    ]);
    expect(problems(mix('{ "bad name": "v" }'))).toEqual([
      'load.mix[0].headers.bad name: invalid header name "bad name"',
    ]);
  });

  it("prototype keys are refused by name, not silently dropped", () => {
    expect(
      problems(edit("kind: reference\n", "kind: reference\n  options: { __proto__: { x: 1 } }\n")),
    ).toEqual([
      'target.options.__proto__: key "__proto__" is not allowed (it names a JavaScript prototype, not a setting) (fix: remove it)',
    ]);
  });

  it("reference options are checked strictly, the worker's included, with the known keys", () => {
    const p = problems(edit("kind: reference\n", "kind: reference\n  options: { worker: { modles: [] } }\n"));
    expect(p).toHaveLength(1);
    expect(p[0]).toMatch(
      /^target\.options\.worker\.modles: unknown setting "modles" \(fix: known settings here: .*models/,
    );
    expect(
      problems(
        edit("kind: reference\n", "kind: reference\n  options: { breaker: { halfOpenAfter: 2000 } }\n"),
      )[0],
    ).toMatch(
      /^target\.options\.breaker\.halfOpenAfter: unknown setting "halfOpenAfter" \(fix: known settings here: closeOnFreshWorker, failureThreshold, halfOpenAfterMs\)/,
    );
  });

  it("a mix entry without model: the reference target's own model, else an error naming the field", () => {
    const r = parseScenario(
      edit("model: sim-utility, maxTokens: 8, weight: 3", "maxTokens: 8, weight: 3"),
      "s.yaml",
      FAULT_KINDS,
    );
    expect(r.ok && r.value.scenario.load.mix.map((t) => (t.kind === "http" ? null : t.model))).toEqual([
      "sim-utility",
      "sim-utility",
    ]);
    const url = `name: u\ntarget: { kind: url, baseUrl: "http://127.0.0.1:9" }\nload: { rate: 1, duration: 2s, mix: [{ kind: chat }] }\nslos: [{ kind: availability, min: 0.9 }]\n`;
    expect(problems(url)).toEqual([
      "load.mix[0].model: missing required field for a url target (the model to ask for) (fix: add model: <a model the service serves> (`GET /v1/models` lists them))",
    ]);
  });
});

describe("reading scenario files: regular files only, bounded", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "faultline-hostile-"));
    await writeFile(join(dir, "plain"), "x");
    await symlink("/dev/zero", join(dir, "zero.yaml"));
    await writeFile(join(dir, "big.yaml"), `# ${"x".repeat(300 * 1024)}\n`);
    await mkdir(join(dir, "d.yaml"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const messages = async (path: string): Promise<string[]> => {
    const e: unknown = await loadScenarios([path], dir, FAULT_KINDS).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(InvalidInputError);
    return (e as InvalidInputError).issues.map((i) => i.message);
  };

  it("a symlink to /dev/zero is refused at once, without reading it", async () => {
    const started = performance.now();
    expect(await messages("zero.yaml")).toEqual(["not a regular file"]);
    expect(performance.now() - started).toBeLessThan(1_000);
  });

  it("a file over the size limit, a path under a regular file, a missing path", async () => {
    expect(await messages("big.yaml")).toEqual([
      "file is larger than 256 KiB (the limit for a scenario file)",
    ]);
    expect(await messages("plain/x.yaml")).toEqual(["a part of the path is a file, not a directory"]);
    expect(await messages("nope.yaml")).toEqual(["no such file or directory"]);
    expect(await messages("d.yaml")).toEqual(["directory holds no .yaml scenario files"]);
  });
});
