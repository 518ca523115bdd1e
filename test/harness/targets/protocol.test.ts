import { describe, expect, it } from "vitest";
import * as protocol from "../../../harness/targets/protocol.js";
import * as reference from "../../../reference-service/contract.js";

// The harness owns the target protocol; the reference service keeps its own copy of the values
// (it does not import the harness). This is the check that the two agree.
describe("the reference service implements the harness's target protocol", () => {
  it("serves every route the harness calls at the same path", () => {
    for (const [name, path] of Object.entries(protocol.ROUTES)) {
      expect({ name, path: reference.ROUTES[name as keyof typeof protocol.ROUTES] }).toEqual({ name, path });
    }
  });

  it("reads the retry header the load generator marks retries with", () => {
    expect(reference.RETRY_COUNT_HEADER).toBe(protocol.RETRY_COUNT_HEADER);
  });

  it("marks service levels where and as the default marking reads them", () => {
    expect(reference.SERVICE_LEVEL_HEADER).toBe(protocol.SERVICE_LEVEL_HEADER);
    expect(reference.SERVICE_LEVEL_BODY_FIELD).toBe(protocol.SERVICE_LEVEL_BODY_FIELD);
    expect(reference.SERVICE_LEVELS).toContain(protocol.FULL_SERVICE_LEVEL);
  });

  it("exposes the breaker gauge that signals detection, with the same state values", () => {
    expect(reference.METRICS.breakerState).toBe(protocol.BREAKER_STATE_METRIC);
    expect(reference.BREAKER_STATE_VALUE).toEqual(protocol.BREAKER_STATE_VALUE);
  });
});
