import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InvalidInputError } from "../../../common/errors.js";
import { parseK6Points, readK6PointsFile, type K6Point } from "../../../harness/k6/points.js";
import { K6RowCollector, k6RequestRows } from "../../../harness/k6/summary.js";

/** k6's output streamed from its file gives what the same text parsed in memory gives. */
const fixture = (name: string): string => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "fl-k6-points-"));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

async function streamed(file: string): Promise<{ points: K6Point[]; metrics: object }> {
  const points: K6Point[] = [];
  const metrics = await readK6PointsFile(file, (p) => points.push(p));
  return { points, metrics };
}

describe("k6 output streamed from its file", () => {
  it.each(["points-faultline.ndjson", "points-plain.ndjson"])(
    "%s: the same metrics and points, in order, as parsed in memory",
    async (name) => {
      const inMemory = parseK6Points(await readFile(fixture(name), "utf8"), name);
      expect(await streamed(fixture(name))).toEqual({ metrics: inMemory.metrics, points: inMemory.points });
    },
  );

  it.each(["points-faultline.ndjson", "points-plain.ndjson"])(
    "%s: rows collected point by point equal the rows of all points at once",
    async (name) => {
      const { points } = await streamed(fixture(name));
      const collector = new K6RowCollector();
      for (const p of points) collector.add(p);
      const intended = points.map((_, i) => i * 10);
      expect(collector.result({ intended })).toEqual(k6RequestRows({ metrics: {}, points }, { intended }));
    },
  );

  it("reports bad lines by line number once the file is read", async () => {
    const file = join(dir, "bad.json");
    await writeFile(
      file,
      ["not json", "", '{"type":"Metric","metric":"y","data":{"type":"histogram"}}'].join("\n"),
    );
    const err = await readK6PointsFile(file, () => undefined).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidInputError);
    expect((err as InvalidInputError).issues).toEqual([
      { file: `${file}:1`, path: "", message: "not JSON" },
      { file: `${file}:3`, path: "", message: 'metric y: unknown type "histogram"' },
    ]);
  });

  it("a missing file rejects with ENOENT (the driver decides what an absent output means)", async () => {
    const err = await readK6PointsFile(join(dir, "absent.json"), () => undefined).catch((e: unknown) => e);
    expect((err as NodeJS.ErrnoException).code).toBe("ENOENT");
  });

  it("holds no point: a faultline_request run drops the http_req_duration rows it collected first", () => {
    const point = (metric: string, iter: number): K6Point => ({
      metric,
      timeMs: 1_000 + iter,
      value: 5,
      tags: { status: "200", fl_outcome: "ok", fl_template: "0" },
      metadata: { fl_iter: String(iter), fl_start: "900" },
    });
    const collector = new K6RowCollector();
    collector.add(point("http_req_duration", 0));
    collector.add(point("faultline_request", 0));
    collector.add(point("http_req_duration", 1));
    collector.add(point("faultline_request", 1));
    collector.add({ ...point("dropped_iterations", 0), value: 2 });
    const r = collector.result();
    expect([r.source, r.rows.length, r.startEpochMs, r.droppedIterations]).toEqual([
      "faultline_request",
      2,
      900,
      2,
    ]);
    expect(r.rows.map((x) => [x.sent, x.end])).toEqual([
      [95, 100],
      [96, 101],
    ]);
  });
});
