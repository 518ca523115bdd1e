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

export function classifyResponse(f: ResponseFacts): Outcome {
  const expected = f.expectStatus ? f.expectStatus.has(f.status) : f.status >= 200 && f.status < 300;
  if (expected) {
    if (f.streamComplete === false) return "error";
    const below = f.belowFull ?? ((l: string): boolean => l !== "full");
    const marked = (l: string | undefined): boolean => l !== undefined && below(l);
    return marked(f.serviceLevel) || marked(f.streamServiceLevel) || marked(f.bodyServiceLevel)
      ? "degraded"
      : "ok";
  }
  if (f.status === 429 || f.status === 503) return "shed";
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
