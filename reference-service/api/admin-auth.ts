/**
 * The guard of the state-changing endpoints (model load/unload, breaker reset): a bearer token
 * (RFC 6750) when `adminToken` is set. Without a token they stay open on a loopback host (a
 * developer's own machine, as before) and are refused on any other, whatever allowNonLoopback
 * says: that flag exposes reading, never control.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import { isLoopbackHost, type ServiceConfig } from "../config.js";
import { ADMIN_TOKEN_ENV } from "../contract.js";
import { ApiError } from "./errors.js";

const BEARER = /^Bearer[ \t]+([A-Za-z0-9\-._~+/]+=*)[ \t]*$/i;

/**
 * Equal in time independent of where the strings differ. Both sides are hashed first so the
 * comparison also does not reveal the token's length (timingSafeEqual needs equal lengths).
 */
export function tokensEqual(given: string, expected: string): boolean {
  const digest = (s: string): Buffer => createHash("sha256").update(s, "utf8").digest();
  return timingSafeEqual(digest(given), digest(expected));
}

function unauthorized(message: string, error: "invalid_request" | "invalid_token"): ApiError {
  // RFC 6750 §3: a missing credential gets the bare challenge, a wrong one names the error.
  const challenge =
    error === "invalid_token"
      ? 'Bearer realm="faultline-admin", error="invalid_token"'
      : 'Bearer realm="faultline-admin"';
  return new ApiError(401, "invalid_request_error", "invalid_api_key", message, null, undefined, {
    "www-authenticate": challenge,
  });
}

/** Throws the 401/403 answer unless the request may change the service's state. */
export function requireAdmin(config: ServiceConfig, headers: IncomingHttpHeaders): void {
  const expected = config.adminToken;
  if (expected === null) {
    if (isLoopbackHost(config.host)) return;
    throw new ApiError(
      403,
      "invalid_request_error",
      "admin_disabled",
      `state-changing endpoints are disabled on a non-loopback host without an admin token; start the service with adminToken set (env ${ADMIN_TOKEN_ENV})`,
    );
  }
  const header = headers.authorization;
  if (header === undefined || header === "")
    throw unauthorized(
      "this endpoint changes the service's state and needs 'Authorization: Bearer <admin token>'",
      "invalid_request",
    );
  const m = BEARER.exec(header);
  if (!m?.[1] || !tokensEqual(m[1], expected))
    throw unauthorized("the admin token is not valid for this service", "invalid_token");
}
