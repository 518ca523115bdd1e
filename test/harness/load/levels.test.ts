import { describe, expect, it } from "vitest";
import {
  classifyResponse,
  jsonLevel,
  levelMarking,
  DEFAULT_MARKING,
  SseChecker,
} from "../../../harness/load/index.js";

const ok200 = { status: 200, serviceLevel: undefined, expectStatus: null, streamComplete: null } as const;

describe("level marking", () => {
  it("without a spec is the protocol's default: its header, its stream field, anything but full is below", () => {
    const m = levelMarking(undefined);
    expect(m).toBe(DEFAULT_MARKING);
    expect([m.header, m.jsonPath, m.readsBody]).toEqual([
      "x-faultline-service-level",
      ["faultline", "service_level"],
      false,
    ]);
    expect(["full", "degraded", "minimal", "other"].map(m.belowFull)).toEqual([false, true, true, true]);
  });

  it("a header (case-insensitive name) with its full values; or the values below full", () => {
    const h = levelMarking({ header: "X-Served-By", full: ["primary", "gpu"] });
    expect([h.header, h.jsonPath, h.readsBody]).toEqual(["x-served-by", null, false]);
    expect(["primary", "gpu", "cache"].map(h.belowFull)).toEqual([false, false, true]);
    const d = levelMarking({ jsonField: "meta.tier", degraded: ["cache"] });
    expect([d.header, d.jsonPath, d.readsBody]).toEqual([null, ["meta", "tier"], true]);
    expect(["cache", "primary", "anything"].map(d.belowFull)).toEqual([true, false, false]);
  });

  it("reads a dotted JSON field as text, and nothing from what is not there", () => {
    const body = { meta: { tier: "cache", rank: 2, ok: false, deep: { x: null } }, list: ["a"] };
    expect(jsonLevel(body, ["meta", "tier"])).toBe("cache");
    expect(jsonLevel(body, ["meta", "rank"])).toBe("2");
    expect(jsonLevel(body, ["meta", "ok"])).toBe("false");
    expect(jsonLevel(body, ["meta", "deep", "x"])).toBe(undefined);
    expect(jsonLevel(body, ["meta", "missing"])).toBe(undefined);
    expect(jsonLevel(body, ["list", "0"])).toBe(undefined);
    expect(jsonLevel("text", ["meta"])).toBe(undefined);
  });

  it("classifies by the marking: header, body field, or stream chunk field", () => {
    const m = levelMarking({ jsonField: "meta.tier", full: ["primary"] });
    const facts = { ...ok200, belowFull: m.belowFull };
    expect(classifyResponse({ ...facts, bodyServiceLevel: "primary" })).toBe("ok");
    expect(classifyResponse({ ...facts, bodyServiceLevel: "cache" })).toBe("degraded");
    // Without a marker an answer is full service.
    expect(classifyResponse({ ...facts })).toBe("ok");
    // A marked shed answer is still shed: the level only splits good answers.
    expect(classifyResponse({ ...facts, status: 503, bodyServiceLevel: "cache" })).toBe("shed");
    const sse = new SseChecker(m);
    const chunk = (tier: string, finish: string | null) =>
      Buffer.from(`data: ${JSON.stringify({ meta: { tier }, choices: [{ finish_reason: finish }] })}\n\n`);
    sse.feed(chunk("primary", null));
    expect(sse.serviceLevel).toBe(undefined);
    sse.feed(chunk("cache", "stop"));
    sse.feed(Buffer.from("data: [DONE]\n\n"));
    sse.end();
    expect([sse.complete, sse.serviceLevel]).toEqual([true, "cache"]);
    expect(classifyResponse({ ...facts, streamComplete: true, streamServiceLevel: sse.serviceLevel })).toBe(
      "degraded",
    );
  });

  it("keeps the reference stream rule: the worst chunk level wins (minimal over degraded)", () => {
    const sse = new SseChecker();
    for (const level of ["degraded", "minimal", "degraded", "full"])
      sse.feed(
        Buffer.from(`data: ${JSON.stringify({ faultline: { service_level: level }, choices: [] })}\n\n`),
      );
    expect(sse.serviceLevel).toBe("minimal");
  });
});
