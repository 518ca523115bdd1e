/**
 * The HAProxy configuration the harness writes in front of N reference API replicas. Pure, so
 * the settings that make a replica's death invisible to clients are tested as text.
 *
 * Why each setting:
 * - active checks on /health/ready every 200 ms, `fall 3`: a dead (connection refused) or
 *   draining (503) replica is out of rotation after three failed checks (about 0.6 s by the
 *   settings; the api-crash claim run measures it as the time between the kill event and
 *   HAProxy's DOWN event); `rise 2` and `slowstart` let a returning one warm up.
 * - `timeout check 2s`: the one replica left carrying all the load during a rolling restart
 *   answered its check in more than the default (inter, 200 ms) on this shared 2-core
 *   machine, was marked DOWN, and HAProxy had no server left (one run of
 *   scenarios/replicas/rolling-restart-50rps.yaml without this line: 38 of 1000 requests
 *   answered 503 <NOSRV>). A hung replica is therefore out only after about 3 x 2.2 s by the
 *   settings; a dead one (refused at once) still after three 200 ms checks.
 * - `retry-on conn-failure empty-response response-timeout 503` with `retries` and
 *   `option redispatch 1`: a request that reached a replica that died before answering, or
 *   that was refused with 503 while it drains, is sent again to another replica. A response
 *   already under way (a stream cut mid-answer) cannot be retried by any balancer.
 * - `option http-server-close`: one server-side connection per request, so no request is
 *   ever written to a kept-alive connection the replica is closing. Its cost (a new loopback
 *   connection per request) has not been measured against connection reuse.
 * - no `on-marked-down shutdown-sessions`: a draining replica finishes what it holds.
 * - `capture response header` of the service level and fallback, and `format iso`: each
 *   line of haproxy.log has its time, and each answer names the replica that served it and,
 *   if a fallback did, which (`{degraded|cache}`), so a degraded answer is pinned to a replica.
 */
import { SERVICE_LEVEL_HEADER } from "./protocol.js";

export interface HaproxyConfigInput {
  readonly frontendPort: number;
  readonly statsPort: number;
  readonly socketPath: string;
  /** Replica ports, in order: server names are api1, api2, ... */
  readonly replicaPorts: readonly number[];
}

export const BACKEND = "replicas";
/** How long a replica HAProxy sees UP again takes to get its full share of requests. */
export const SLOWSTART_MS = 2_000;
export const serverName = (replica: number): string => `api${replica}`;

/** Where the harness runs HAProxy: as a local process, or as a container on the run's network. */
interface Placement {
  /** Address the frontends bind. */
  readonly bindHost: string;
  readonly frontendPort: number;
  readonly statsPort: number;
  /** The admin runtime API: a unix socket path, or `ipv4@host:port`. */
  readonly runtimeApi: string;
  /** Replica addresses (host:port), in order. */
  readonly servers: readonly string[];
  /**
   * A DNS server to re-resolve replica names with (a container: Docker's embedded DNS), since
   * a restarted container may come back with another address. None: addresses are fixed.
   */
  readonly nameserver?: string;
}

/** The configuration of HAProxy run as a local process in front of local replica processes. */
export function haproxyConfig(c: HaproxyConfigInput): string {
  return render({
    bindHost: "127.0.0.1",
    frontendPort: c.frontendPort,
    statsPort: c.statsPort,
    runtimeApi: `${c.socketPath} mode 600`,
    servers: c.replicaPorts.map((p) => `127.0.0.1:${p}`),
  });
}

/** Ports HAProxy listens on inside its container (published on the host's loopback). */
export const HAPROXY_CONTAINER_PORTS = { frontend: 8080, stats: 8404, runtimeApi: 9999 } as const;
/** A replica's network alias on the run's network: api-1, api-2, ... */
export const replicaAlias = (replica: number): string => `api-${replica}`;

/**
 * The same configuration for HAProxy as a container in front of replica containers
 * (`replicaAlias(n)`:`replicaPort` on the run's network): only where it binds, where its
 * runtime API listens (TCP, published to the host's loopback, since a unix socket would stay
 * inside the container) and how it finds the replicas differ.
 */
export function haproxyContainerConfig(replicas: number, replicaPort: number): string {
  const p = HAPROXY_CONTAINER_PORTS;
  return render({
    bindHost: "0.0.0.0",
    frontendPort: p.frontend,
    statsPort: p.stats,
    runtimeApi: `ipv4@0.0.0.0:${p.runtimeApi}`,
    servers: Array.from({ length: replicas }, (_, i) => `${replicaAlias(i + 1)}:${replicaPort}`),
    nameserver: "127.0.0.11:53",
  });
}

function render(c: Placement): string {
  // With a nameserver: re-resolve every second, keep the last address while the name is
  // gone (a dead container leaves Docker's DNS), and start even if a replica is not up yet.
  const resolve = c.nameserver === undefined ? "" : " resolvers dns init-addr last,libc,none";
  const servers = c.servers.map((a, i) => `  server ${serverName(i + 1)} ${a} check${resolve}`);
  const resolvers =
    c.nameserver === undefined
      ? []
      : ["resolvers dns", `  nameserver dns ${c.nameserver}`, "  hold valid 1s", "  hold nx 30s", ""];
  return [
    "global",
    `  stats socket ${c.runtimeApi} level admin`,
    "  log stdout format iso local0",
    "  maxconn 4096",
    "",
    ...resolvers,
    "defaults",
    "  mode http",
    "  log global",
    "  option httplog",
    "  timeout connect 1s",
    "  timeout client 60s",
    "  timeout server 60s",
    "  timeout queue 10s",
    "  timeout http-request 10s",
    "  timeout http-keep-alive 10s",
    "  retries 3",
    "  retry-on conn-failure empty-response response-timeout 503",
    "  option redispatch 1",
    "  option http-server-close",
    "",
    "frontend api",
    `  bind ${c.bindHost}:${c.frontendPort}`,
    `  default_backend ${BACKEND}`,
    `  capture response header ${SERVICE_LEVEL_HEADER} len 12`,
    "  capture response header x-faultline-fallback len 12",
    "",
    "frontend stats",
    `  bind ${c.bindHost}:${c.statsPort}`,
    "  http-request use-service prometheus-exporter if { path /metrics }",
    "  stats enable",
    "  stats uri /stats",
    "",
    `backend ${BACKEND}`,
    "  balance leastconn",
    "  option httpchk GET /health/ready",
    "  http-check expect status 200",
    "  timeout check 2s",
    `  default-server inter 200ms fastinter 100ms downinter 200ms fall 3 rise 2 slowstart ${SLOWSTART_MS}ms`,
    ...servers,
    "",
  ].join("\n");
}

/** One server row of `show stat` (CSV), the fields the harness reads. */
export interface ServerStat {
  readonly name: string;
  /** UP, DOWN, DRAIN, MAINT, "UP 1/2" (going down), "DOWN 1/2" (coming up), ... */
  readonly status: string;
  readonly currentSessions: number;
  readonly totalSessions: number;
  /** Times the server went from UP to DOWN. */
  readonly downTransitions: number;
  readonly retries: number;
  readonly redispatches: number;
  /**
   * Answers the server cut after they had begun (srv_abrt: "data transfers aborted by the
   * server"): the losses no balancer can retry, since part of the response is already sent.
   */
  readonly serverAborts: number;
}

/** Parses `show stat` CSV (header line starts with "# ") into the backend's server rows. */
export function parseShowStat(csv: string, backend = BACKEND): ServerStat[] {
  const lines = csv.split("\n").filter((l) => l.trim() !== "");
  const header = (lines[0] ?? "").replace(/^# /, "").split(",");
  const col = (name: string): number => header.indexOf(name);
  const out: ServerStat[] = [];
  for (const line of lines.slice(1)) {
    const f = line.split(",");
    const name = f[col("svname")] ?? "";
    if (f[col("pxname")] !== backend || name === "FRONTEND" || name === "BACKEND") continue;
    const num = (n: string): number => Number(f[col(n)] ?? "0") || 0;
    out.push({
      name,
      status: f[col("status")] ?? "",
      currentSessions: num("scur"),
      totalSessions: num("stot"),
      downTransitions: num("chkdown"),
      retries: num("wretr"),
      redispatches: num("wredis"),
      serverAborts: num("srv_abrt"),
    });
  }
  return out;
}
