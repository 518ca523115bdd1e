import { describe, expect, it } from "vitest";
import {
  haproxyConfig,
  haproxyContainerConfig,
  parseShowStat,
} from "../../../harness/targets/haproxy-config.js";
import { statChanges } from "../../../harness/targets/haproxy.js";

const config = haproxyConfig({
  frontendPort: 8080,
  statsPort: 8081,
  socketPath: "/tmp/x/haproxy.sock",
  replicaPorts: [9001, 9002],
});

describe("haproxyConfig", () => {
  it("checks /health/ready fast enough to take a dead replica out within ~0.6 s, and slow-starts a returning one", () => {
    expect(config).toContain("option httpchk GET /health/ready");
    expect(config).toContain("timeout check 2s");
    expect(config).toContain(
      "default-server inter 200ms fastinter 100ms downinter 200ms fall 3 rise 2 slowstart 2000ms",
    );
    expect(config).toContain("server api1 127.0.0.1:9001 check");
    expect(config).toContain("server api2 127.0.0.1:9002 check");
  });

  it("retries what a dead or draining replica did not answer, on another replica, one connection per request", () => {
    expect(config).toContain("retry-on conn-failure empty-response response-timeout 503");
    expect(config).toContain("option redispatch 1");
    expect(config).toContain("option http-server-close");
    expect(config).not.toContain("shutdown-sessions");
  });

  it("serves its Prometheus exporter and an admin runtime socket", () => {
    expect(config).toContain("http-request use-service prometheus-exporter if { path /metrics }");
    expect(config).toContain("stats socket /tmp/x/haproxy.sock mode 600 level admin");
  });
});

const HEADER =
  "# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,wretr,wredis,status,weight,act,bck,chkfail,chkdown,lastchg,downtime,qlimit,pid,iid,sid,throttle,lbtot,tracked,type,rate,rate_lim,rate_max,check_status,check_code,check_duration,hrsp_1xx,hrsp_2xx,hrsp_3xx,hrsp_4xx,hrsp_5xx,hrsp_other,hanafail,req_rate,req_rate_max,req_tot,cli_abrt,srv_abrt,";
const row = (
  px: string,
  sv: string,
  scur: number,
  stot: number,
  wretr: number,
  wredis: number,
  status: string,
  chkdown: number,
  srvAbrt: number,
): string =>
  `${px},${sv},0,0,${scur},0,,${stot},0,0,,0,,0,0,${wretr},${wredis},${status},1,1,0,0,${chkdown},1,0,,1,3,1,,0,,2,0,,0,L7OK,200,1,0,0,0,0,0,0,,,,0,0,${srvAbrt},`;

describe("parseShowStat", () => {
  it("reads the backend's server rows and leaves frontends and the backend total out", () => {
    const csv = [
      HEADER,
      "api,FRONTEND,,,1,2,4096,7,0,0,0,0,0,,,,,OPEN,",
      row("replicas", "api1", 2, 190, 1, 4, "UP", 1, 3),
      row("replicas", "api2", 0, 241, 0, 0, "DOWN 1/2", 0, 0),
      row("replicas", "BACKEND", 2, 431, 1, 4, "UP", 0, 3),
      "",
    ].join("\n");
    expect(parseShowStat(csv)).toEqual([
      {
        name: "api1",
        status: "UP",
        currentSessions: 2,
        totalSessions: 190,
        downTransitions: 1,
        retries: 1,
        redispatches: 4,
        serverAborts: 3,
      },
      {
        name: "api2",
        status: "DOWN 1/2",
        currentSessions: 0,
        totalSessions: 241,
        downTransitions: 0,
        retries: 0,
        redispatches: 0,
        serverAborts: 0,
      },
    ]);
  });
});

describe("statChanges", () => {
  const base = {
    name: "api1",
    status: "UP",
    currentSessions: 0,
    totalSessions: 10,
    downTransitions: 0,
    retries: 0,
    redispatches: 0,
    serverAborts: 0,
  };
  it("reports a status change by its first word (a transition 'UP 1/2' is still UP)", () => {
    expect(statChanges(base, { ...base, status: "UP 1/2" })).toEqual([]);
    expect(statChanges(base, { ...base, status: "DOWN" })).toEqual(["lb: api#1 DOWN"]);
  });
  it("names retried requests as not lost and cut answers as lost", () => {
    expect(statChanges(base, { ...base, retries: 2, redispatches: 3, serverAborts: 1 })).toEqual([
      "lb: api#1: HAProxy retried 2 and redispatched 3 requests (not lost)",
      "lb: api#1 cut 1 answers it had already begun (HAProxy srv_abrt): lost, no balancer can retry a response already under way",
    ]);
  });
});

describe("haproxyContainerConfig", () => {
  const container = haproxyContainerConfig(2, 8080);
  const settings = (text: string): string[] =>
    text
      .split("\n")
      .filter((l) => !/^\s*(bind|server|stats socket|nameserver|hold) /.test(l) && !/^resolvers /.test(l));

  it("is process mode's configuration but for where it binds, its runtime API and how it finds replicas", () => {
    expect(settings(container).filter((l) => l !== "")).toEqual(settings(config).filter((l) => l !== ""));
  });

  it("binds inside the container, serves the runtime API on TCP and re-resolves replicas through Docker's DNS", () => {
    expect(container).toContain("  bind 0.0.0.0:8080");
    expect(container).toContain("  bind 0.0.0.0:8404");
    expect(container).toContain("stats socket ipv4@0.0.0.0:9999 level admin");
    expect(container).toContain("  nameserver dns 127.0.0.11:53");
    expect(container).toContain("server api1 api-1:8080 check resolvers dns init-addr last,libc,none");
    expect(container).toContain("server api2 api-2:8080 check resolvers dns init-addr last,libc,none");
  });
});
