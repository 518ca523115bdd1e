import { describe, expect, it } from "vitest";
import { rawHeaderValue } from "../../../harness/load/raw-headers.js";

const raw = (...pairs: string[]): Buffer[] => pairs.map((p) => Buffer.from(p, "latin1"));

describe("rawHeaderValue reads one header as undici's parseHeaders would", () => {
  it("matches the name whatever its case", () => {
    const h = raw("Content-Type", "text/plain", "X-Faultline-Service-Level", "degraded");
    expect(rawHeaderValue(h, "x-faultline-service-level")).toBe("degraded");
  });

  it("gives the first of repeated headers", () => {
    const h = raw("retry-after", "3", "Retry-After", "7");
    expect(rawHeaderValue(h, "retry-after")).toBe("3");
  });

  it("is undefined when the header is absent, or only a longer or shorter name shares a prefix", () => {
    const h = raw("retry-after-ms", "300", "retry-afte", "1");
    expect(rawHeaderValue(h, "retry-after")).toBeUndefined();
    expect(rawHeaderValue([], "retry-after")).toBeUndefined();
  });

  it("keeps the value as sent (latin1, inner and edge spaces as the parser left them)", () => {
    const h = [Buffer.from("x-level"), Buffer.from([0x64, 0xe9, 0x67, 0x20, 0x31])];
    expect(rawHeaderValue(h, "x-level")).toBe("dég 1");
  });

  it("reads string names and values too", () => {
    expect(rawHeaderValue(["X-Served-By", "primary"], "x-served-by")).toBe("primary");
  });
});
