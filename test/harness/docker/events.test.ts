import { describe, expect, it } from "vitest";
import { describeEvent, jsonLines, type EngineEvent } from "../../../harness/docker/events.js";
import { demuxLog } from "../../../harness/docker/container-log.js";

const ev = (Action: string, attrs: Record<string, string> = {}): EngineEvent => ({
  Type: "container",
  Action,
  Actor: {
    ID: "0123456789abcdef",
    Attributes: { name: "shop-api-1", "com.docker.compose.service": "api", ...attrs },
  },
});

describe("describeEvent", () => {
  it.each([
    [
      "oom",
      ev("oom"),
      false,
      "container api: OOMKilled (the kernel's OOM killer ended a process at the memory limit)",
    ],
    ["die after oom", ev("die", { exitCode: "137" }), true, "container api: died (exit 137, OOMKilled)"],
    ["plain die", ev("die", { exitCode: "143" }), false, "container api: died (exit 143)"],
    ["start", ev("start"), false, "container api: start"],
    ["health", ev("health_status: unhealthy"), false, "container api: health_status unhealthy"],
    ["kill", ev("kill", { signal: "9" }), false, "container api: kill 9"],
    ["exec noise", ev("exec_start: node healthcheck.js"), false, null],
    [
      "a replica names its number",
      ev("die", { exitCode: "137", "io.faultline.replica": "2", "com.docker.compose.container-number": "2" }),
      false,
      "container api#2: died (exit 137)",
    ],
  ])("%s", (_n, e, oom, expected) => {
    expect(describeEvent(e, oom)).toBe(expected);
  });

  it("falls back to the container name, then the short id, without compose labels", () => {
    expect(
      describeEvent({ Action: "pause", Actor: { ID: "0123456789abcdef", Attributes: { name: "solo" } } }),
    ).toBe("container solo: pause");
    expect(describeEvent({ Action: "pause", Actor: { ID: "0123456789abcdef" } })).toBe(
      "container 0123456789ab: pause",
    );
  });
});

describe("demuxLog", () => {
  it("joins the payloads of the engine's stdout and stderr frames", () => {
    const frame = (stream: number, text: string): Buffer => {
      const head = Buffer.alloc(8);
      head[0] = stream;
      head.writeUInt32BE(Buffer.byteLength(text), 4);
      return Buffer.concat([head, Buffer.from(text)]);
    };
    expect(demuxLog(Buffer.concat([frame(1, "a line\n"), frame(2, "[WARNING] b\n")]))).toBe(
      "a line\n[WARNING] b\n",
    );
  });
});

describe("jsonLines", () => {
  it("joins objects split across chunks and skips blank and broken lines", () => {
    const seen: EngineEvent[] = [];
    const feed = jsonLines((o) => seen.push(o));
    feed('{"Action":"st');
    feed('art"}\n\nnot json\n{"Action":"die"}\n{"Act');
    expect(seen).toEqual([{ Action: "start" }, { Action: "die" }]);
  });
});
