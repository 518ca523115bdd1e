/**
 * A loopback receiver for the Prometheus Alertmanager webhook format (version "4"), started for
 * a run whose scenario asks for alerts. Any target can POST to it: the reference service is
 * given its URL, a command target gets it in FAULTLINE_ALERT_WEBHOOK_URL, and an Alertmanager
 * (or a service already running) can be pointed at a fixed `alerts.port`. Each alert that
 * starts firing or resolves becomes a run event; a repeated notification of the same state
 * (Alertmanager's repeat_interval) is not a new event.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { z } from "zod";
import type { Clock } from "../../common/clock.js";
import type { AlertInfo, RunEvent } from "../record/schema.js";

/** The env variable a command target finds the receiver's URL in. */
export const ALERT_WEBHOOK_ENV = "FAULTLINE_ALERT_WEBHOOK_URL";
export const ALERT_WEBHOOK_PATH = "/alerts";
const BODY_LIMIT = 1024 * 1024;

const labelSet = z.record(z.string(), z.string());
/** Alertmanager's webhook body; unknown fields are ignored (later versions may add some). */
export const alertmanagerPayloadSchema = z.object({
  version: z.literal("4"),
  status: z.enum(["firing", "resolved"]),
  alerts: z
    .array(
      z.object({
        status: z.enum(["firing", "resolved"]),
        labels: labelSet.refine((l) => typeof l.alertname === "string", {
          error: "every alert needs an alertname label",
        }),
        annotations: labelSet.default({}),
        startsAt: z.string(),
        endsAt: z.string().optional(),
        fingerprint: z.string().optional(),
      }),
    )
    .max(1000),
});

export interface AlertReceiver {
  /** Where to POST (loopback). */
  readonly url: string;
  /** Notifications accepted (each may carry several alerts). */
  readonly notifications: number;
  stop(): Promise<void>;
}

export interface AlertReceiverOptions {
  readonly port: number;
  readonly clock: Clock;
  /** Wall-clock origin of the run (0 before the load starts: events then carry tMs 0). */
  readonly originMs: () => number;
  readonly onEvent: (e: RunEvent) => void;
}

const ZERO_TIME = /^0001-01-01T/;

function keyOf(labels: Record<string, string>): string {
  return JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function describe(a: AlertInfo, annotations: Record<string, string>): string {
  const extra = Object.entries(a.labels)
    .filter(([k]) => k !== "alertname" && k !== "severity")
    .map(([k, v]) => `${k}=${v}`)
    .join(" ");
  const text = annotations.description ?? annotations.summary ?? "";
  return `${a.status}: ${a.name}${a.severity === null ? "" : ` (${a.severity})`}${extra ? ` ${extra}` : ""}${text ? `: ${text}` : ""}`;
}

function answer(res: ServerResponse, status: number, message: string): void {
  res.writeHead(status, { "content-type": "text/plain; charset=utf-8" });
  res.end(`${message}\n`);
}

async function readBody(req: IncomingMessage): Promise<string | null> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > BODY_LIMIT) return null;
    parts.push(chunk);
  }
  return Buffer.concat(parts).toString("utf8");
}

export async function startAlertReceiver(opts: AlertReceiverOptions): Promise<AlertReceiver> {
  const last = new Map<string, "firing" | "resolved">();
  let notifications = 0;
  const tMs = (): number => {
    const origin = opts.originMs();
    return origin === 0 ? 0 : Math.max(0, opts.clock.now() - origin);
  };
  const accept = (payload: z.output<typeof alertmanagerPayloadSchema>): void => {
    notifications++;
    for (const a of payload.alerts) {
      const key = a.fingerprint ?? keyOf(a.labels);
      if (last.get(key) === a.status) continue;
      last.set(key, a.status);
      const alert: AlertInfo = {
        name: a.labels.alertname ?? "",
        status: a.status,
        severity: a.labels.severity ?? null,
        labels: a.labels,
        startsAt: a.startsAt,
        endsAt: a.endsAt === undefined || ZERO_TIME.test(a.endsAt) ? null : a.endsAt,
      };
      opts.onEvent({ tMs: tMs(), kind: "alert", message: describe(alert, a.annotations), alert });
    }
  };
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    if (req.method !== "POST" || path !== ALERT_WEBHOOK_PATH) {
      answer(res, 404, `POST Alertmanager webhook payloads to ${ALERT_WEBHOOK_PATH}`);
      return;
    }
    void readBody(req).then(
      (text) => {
        if (text === null) return answer(res, 413, `payload over ${BODY_LIMIT} bytes`);
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          return answer(res, 400, "not JSON: expected an Alertmanager webhook payload (version 4)");
        }
        const parsed = alertmanagerPayloadSchema.safeParse(json);
        if (!parsed.success) {
          const why = parsed.error.issues
            .map((i) => `${i.path.join(".") || "(body)"}: ${i.message}`)
            .join("; ");
          opts.onEvent({ tMs: tMs(), kind: "note", message: `alert receiver refused a payload: ${why}` });
          return answer(res, 400, `not an Alertmanager webhook payload (version 4): ${why}`);
        }
        accept(parsed.data);
        answer(res, 200, "ok");
      },
      () => answer(res, 400, "could not read the request body"),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${ALERT_WEBHOOK_PATH}`,
    get notifications() {
      return notifications;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
