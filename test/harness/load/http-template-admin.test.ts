import { describe, expect, it } from "vitest";
import { FAULT_KINDS } from "../../../harness/faults/registry.js";
import { prepareRequest } from "../../../harness/load/templates.js";
import { loadScenarios } from "../../../harness/scenario/load.js";

/**
 * The generic `http` mix kind drives a service's state-changing operations (write-up 004's
 * model verify and load): method, headers (the token) and body go out as written, and the
 * label is the method and path so each operation is told apart in the run.
 */
describe("http mix entries for POST operations", () => {
  it("prepare a POST with its headers and body, labelled by method and path", () => {
    const req = prepareRequest({
      kind: "http",
      method: "POST",
      path: "/v1/models/sim-gen-000/load",
      headers: { authorization: "Bearer t0ken-t0ken-t0ken" },
      body: '{"keep_alive_ms":0}',
    });
    expect(req).toEqual({
      label: "POST /v1/models/sim-gen-000/load",
      method: "POST",
      path: "/v1/models/sim-gen-000/load",
      headers: { authorization: "Bearer t0ken-t0ken-t0ken" },
      body: '{"keep_alive_ms":0}',
      stream: false,
      expectStatus: null,
    });
  });

  it("the 004 claims scenario sends the token on every verify and load (one YAML anchor, resolved)", async () => {
    const [loaded] = await loadScenarios(
      ["scenarios/claims/models-list-throughput-and-load-time.yaml"],
      process.cwd(),
      FAULT_KINDS,
    );
    const mix = loaded?.scenario.load.mix ?? [];
    const ops = mix.map((t) => prepareRequest(t)).filter((r) => r.method === "POST");
    expect(ops.filter((r) => r.path.endsWith("/verify"))).toHaveLength(10);
    expect(ops.filter((r) => r.path.endsWith("/load"))).toHaveLength(6);
    for (const r of ops)
      expect([r.path, r.headers]).toEqual([
        r.path,
        { authorization: "Bearer faultline-claims-004-loadops-token" },
      ]);
  });
});
