import { OUTCOME_CODE, type Outcome } from "../../common/outcome.js";

/**
 * One place where a response or failure becomes an outcome class (DESIGN.md definitions):
 * 2xx = ok, or degraded when the target marks it below full service (its level marking,
 * harness/load/levels.ts: by default the reference service's header present and not "full",
 * or, for a stream, a chunk marks it in-band); 429/503 = shed; any other status = error; client deadline = timeout;
 * refused/reset/closed connection = conn. A 2xx stream that is incomplete is an error.
 *
 * 429/503 count as shed with or without Retry-After: a shed without the header is still a
 * shed, and whether the header was there is a separate conformance question.
 */
export interface ResponseFacts {
  readonly status: number;
  /** Value of the service-level header, if present. */
  readonly serviceLevel: string | undefined;
  /** Statuses that count as good for an `http` template with expectStatus; null: any 2xx. */
  readonly expectStatus: ReadonlySet<number> | null;
  /** For streams: whether the event stream was complete; null for non-stream answers. */
  readonly streamComplete: boolean | null;
  /**
   * For streams: the worst service level chunks declared in-band (SseChecker.serviceLevel). A
   * stream continued on a fallback after its headers can only say so there.
   */
  readonly streamServiceLevel?: string | undefined;
  /** The level field of a non-stream JSON body, when the target marks its level there. */
  readonly bodyServiceLevel?: string | undefined;
  /** Whether a marker value means below full service; default: any value but "full". */
  readonly belowFull?: (value: string) => boolean;
}

const notFull = (level: string): boolean => level !== "full";

const isBelowFull = (level: string | undefined, belowFull: (value: string) => boolean): boolean =>
  level !== undefined && belowFull(level);

export function classifyResponse(f: ResponseFacts): Outcome {
  return classifyAnswer(
    f.status,
    f.expectStatus,
    f.streamComplete,
    f.serviceLevel,
    f.streamServiceLevel,
    f.bodyServiceLevel,
    f.belowFull ?? notFull,
  );
}

/**
 * classifyResponse with the facts as arguments: the load generator's hot path calls this once
 * per answer, so it builds no facts object and no closure (a closure per call is also a
 * defineProperty per call under tsx, which names every function it creates).
 */
export function classifyAnswer(
  status: number,
  expectStatus: ReadonlySet<number> | null,
  streamComplete: boolean | null,
  serviceLevel: string | undefined,
  streamServiceLevel: string | undefined,
  bodyServiceLevel: string | undefined,
  belowFull: (value: string) => boolean,
): Outcome {
  const expected = expectStatus ? expectStatus.has(status) : status >= 200 && status < 300;
  if (expected) {
    if (streamComplete === false) return "error";
    return isBelowFull(serviceLevel, belowFull) ||
      isBelowFull(streamServiceLevel, belowFull) ||
      isBelowFull(bodyServiceLevel, belowFull)
      ? "degraded"
      : "ok";
  }
  if (status === 429 || status === 503) return "shed";
  return "error";
}

/** Error codes (Node net and undici) that mean the connection failed, not the service. */
const CONN_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "EPIPE",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EADDRNOTAVAIL",
  "UND_ERR_SOCKET",
  "UND_ERR_CLOSED",
  "UND_ERR_CONNECT_TIMEOUT",
]);

/** Outcome of a request that threw instead of answering; `deadlinePassed` wins over the error. */
export function classifyFailure(err: unknown, deadlinePassed: boolean): Outcome {
  if (deadlinePassed) return "timeout";
  return CONN_CODES.has(errorCode(err) ?? "") ? "conn" : "error";
}

function errorCode(err: unknown): string | undefined {
  for (let e = err, depth = 0; e && typeof e === "object" && depth < 4; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && CONN_CODES.has(code)) return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

export const outcomeCode = (o: Outcome): number => OUTCOME_CODE[o];
