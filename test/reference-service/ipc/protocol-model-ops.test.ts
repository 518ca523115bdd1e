import { describe, expect, it } from "vitest";
import {
  DEFAULT_CATALOG,
  generatedModelName,
  requestPayloadSchema,
  responseEventSchema,
  workerCatalog,
  workerConfigSchema,
} from "../../../reference-service/ipc/protocol.js";

describe("worker protocol: verify request and the generated catalogue (write-up 004)", () => {
  it("a verify frame names one model; its answer is an ack with op verify", () => {
    expect(requestPayloadSchema.parse({ type: "verify", sentAtMs: 1, model: "sim-gen-000" })).toEqual({
      type: "verify",
      sentAtMs: 1,
      model: "sim-gen-000",
    });
    expect(requestPayloadSchema.safeParse({ type: "verify", sentAtMs: 1, model: "" }).success).toBe(false);
    expect(requestPayloadSchema.safeParse({ type: "verify", sentAtMs: 1 }).success).toBe(false);
    const ack = { type: "ack", op: "verify", model: "m", state: "unloaded" };
    expect(responseEventSchema.parse(ack)).toEqual(ack);
  });

  it("the default catalogue is unchanged: the three models, nothing generated", () => {
    const config = workerConfigSchema.parse({});
    expect(config.generatedModels).toBe(0);
    expect(workerCatalog(config)).toEqual(DEFAULT_CATALOG);
  });

  it("generatedModels: n appends sim-gen-000 .. n-1, small GPU models with a verify time", () => {
    const catalog = workerCatalog(workerConfigSchema.parse({ generatedModels: 100 }));
    expect(catalog).toHaveLength(103);
    expect(catalog.slice(0, 3)).toEqual(DEFAULT_CATALOG);
    expect(catalog.slice(3).map((m) => m.name)).toEqual(
      Array.from({ length: 100 }, (_, i) => generatedModelName(i)),
    );
    expect([catalog[3]?.name, catalog[102]?.name]).toEqual(["sim-gen-000", "sim-gen-099"]);
    expect(catalog[3]).toMatchObject({ device: "gpu", task: "generate", loadMs: 50, verifyMs: 20 });
    expect(new Set(catalog.map((m) => m.name)).size).toBe(103);
  });

  it("refuses a negative or oversized generatedModels", () => {
    for (const n of [-1, 1.5, 1001])
      expect([n, workerConfigSchema.safeParse({ generatedModels: n }).success]).toEqual([n, false]);
  });
});
