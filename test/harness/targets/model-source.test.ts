import { afterEach, describe, expect, it } from "vitest";
import { startModelSource, type ModelSource } from "../../../harness/targets/reference/model-source.js";

let source: ModelSource | null = null;
afterEach(async () => {
  await source?.close();
  source = null;
});

describe("the reference target's model source (target.modelSource)", () => {
  it("answers GET /blob/<bytes> with that many deterministic bytes and their length; anything else 404", async () => {
    source = await startModelSource();
    expect(source.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const a = await fetch(`${source.url}/blob/10000`);
    const body = Buffer.from(await a.arrayBuffer());
    expect([a.status, a.headers.get("content-length"), body.length]).toEqual([200, "10000", 10_000]);
    const again = Buffer.from(await (await fetch(`${source.url}/blob/10000`)).arrayBuffer());
    expect(Buffer.compare(body, again)).toBe(0);
    expect((await fetch(`${source.url}/blob/0`)).status).toBe(200);
    expect((await fetch(`${source.url}/models/x`)).status).toBe(404);
    expect((await fetch(`${source.url}/blob/${64 * 1024 * 1024 + 1}`)).status).toBe(404);
    expect(source.served()).toMatchObject({ requests: 5 });
  });
});
