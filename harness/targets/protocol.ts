/**
 * The target protocol: what the harness relies on from any target it loads, owned here by the
 * harness (the consumer), as a test runner owns its reporter interface. An OpenAI-compatible
 * service implements it; the reference service is one such service.
 *
 * The reference service keeps its own copy of these values (reference-service/contract.ts)
 * rather than importing this file: it is a standalone service that does not depend on the
 * harness, as no real target does. test/harness/targets/protocol.test.ts fails when the two
 * disagree, so a change here is a change to the reference service too.
 */

/** The routes the harness calls: OpenAI's generation routes, readiness and Prometheus metrics. */
export const ROUTES = {
  chat: "/v1/chat/completions",
  completions: "/v1/completions",
  embeddings: "/v1/embeddings",
  /** 200 once the target can answer; a target may name another path (`readyPath`). */
  ready: "/health/ready",
  metrics: "/metrics",
} as const;

/**
 * OpenAI's SDKs number their attempts in this header (0 for the first); 1 or more marks a
 * retry. The load generator marks its Retry-After retries the same way, so a target can let a
 * retry redeem the place its Retry-After promised.
 */
export const RETRY_COUNT_HEADER = "x-stainless-retry-count";

/**
 * How an answer says the level it was served at when the scenario names no marking of its own
 * (`target.levels`): this response header, and in a stream the `service_level` field under
 * SERVICE_LEVEL_BODY_FIELD of a chunk (a stream continued on a fallback after its headers can
 * say so only there). FULL_SERVICE_LEVEL means full service; any other value is below full;
 * an answer without a marker is at full service.
 */
export const SERVICE_LEVEL_HEADER = "x-faultline-service-level";
export const SERVICE_LEVEL_BODY_FIELD = "faultline";
export const FULL_SERVICE_LEVEL = "full";

/**
 * The metric that signals a fault was detected, for a target that exposes it on ROUTES.metrics:
 * a gauge per circuit breaker (label `backend`), detected when one reads BREAKER_STATE_VALUE.open.
 */
export const BREAKER_STATE_METRIC = "faultline_breaker_state";
export const BREAKER_STATE_VALUE = { closed: 0, open: 1, half_open: 2 } as const;
