import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parseScenario } from "../../../harness/scenario/load.js";
import { targetNamesFor } from "../../../harness/scenario/semantic.js";
import { FAULT_KINDS } from "../../../harness/faults/registry.js";
import { targetSchema } from "../../../harness/scenario/schema.js";
import { parse } from "yaml";

const dir = fileURLToPath(new URL("../../../scenarios/docker/", import.meta.url));
const files = readdirSync(dir)
  .filter((f) => f.endsWith(".yaml"))
  .sort();

function issues(text: string): string[] {
  const r = parseScenario(text, "s.yaml", FAULT_KINDS);
  return r.ok ? [] : r.issues.map((i) => `${i.file}: ${i.path}: ${i.message}${i.hint ? ` (${i.hint})` : ""}`);
}

const scenario = (target: string, fault = "container-pause", aim = "container:api"): string => `name: t
target: ${target}
load: { rate: 10, duration: 20s }
faults:
  - { id: f1, kind: ${fault}, target: "${aim}", at: 2s, duration: 2s }
slos: [{ kind: availability, min: 0.9 }]
`;

describe("scenarios/docker", () => {
  it("holds the six container scenarios", () => {
    expect(files).toEqual([
      "01-container-crash.yaml",
      "02-container-pause.yaml",
      "03-container-memory-limit.yaml",
      "04-container-partition.yaml",
      "05-model-partition.yaml",
      "06-replica-crash.yaml",
    ]);
  });

  it.each(files)("%s loads: schema, fault kinds and params, targets, timeline, SLOs", (file) => {
    const r = parseScenario(readFileSync(`${dir}${file}`, "utf8"), file, FAULT_KINDS);
    expect(r.ok ? r.value.scenario.target : r.issues).toMatchObject({ kind: "docker", mode: "start" });
  });
});

describe("docker target in the scenario loader", () => {
  it("a docker stack faultline starts asks the reference service's preloaded model by default", () => {
    const r = parseScenario(scenario("{ kind: docker }"), "s.yaml", FAULT_KINDS);
    expect(r.ok ? r.value.scenario.load.mix.map((t) => t.kind !== "http" && t.model) : r.issues).toEqual([
      "sim-utility",
    ]);
  });

  it("fills the defaults startDockerTarget needs", () => {
    const r = parseScenario(scenario("{ kind: docker }"), "s.yaml", FAULT_KINDS);
    expect(r.ok && r.value.scenario.target).toEqual({
      kind: "docker",
      mode: "start",
      tag: "local",
      build: "if-stale",
      proxy: false,
      model: false,
      apiArgs: [],
      replicas: 1,
      service: "api",
      readyPath: "/health/ready",
      startTimeout: 60_000,
      keep: false,
    });
  });

  it("offers container:<service> per mode, plus load and the client-api link", () => {
    const targetOf = (t: string) => targetNamesFor(targetSchema.parse(parse(t)));
    expect(targetOf("{ kind: docker }")).toEqual(["container:api", "load", "link:client-api"]);
    expect(targetOf("{ kind: docker, proxy: true }")).toEqual([
      "container:api",
      "container:toxiproxy",
      "load",
      "link:client-api",
    ]);
    expect(targetOf("{ kind: docker, model: true }")).toEqual([
      "container:api",
      "container:model",
      "load",
      "link:client-api",
    ]);
    expect(targetOf("{ kind: docker, replicas: 2, model: true }")).toEqual([
      "container:api#1",
      "container:api#2",
      "container:lb",
      "container:model",
      "load",
      "link:client-api",
    ]);
    expect(targetOf("{ kind: docker, mode: attach, project: shop, service: web }")).toEqual([
      "container:web",
      "load",
      "link:client-api",
    ]);
    expect(targetOf("{ kind: docker, mode: attach, project: shop, services: [web, worker, db] }")).toEqual([
      "container:web",
      "container:worker",
      "container:db",
      "load",
      "link:client-api",
    ]);
  });

  it("names a container the target does not offer, with the ones it does", () => {
    expect(issues(scenario("{ kind: docker }", "container-pause", "container:worker"))).toEqual([
      's.yaml:5: faults[0].target: unknown target "container:worker" for a docker target (this target offers: container:api, load, link:client-api)',
    ]);
  });

  it("refuses container faults on a non-docker target, saying what they need", () => {
    expect(issues(scenario("{ kind: reference }"))).toEqual([
      's.yaml:5: faults[0].target: unknown target "container:api" for a reference target (container faults need target.kind: docker)',
    ]);
  });

  it("attach needs a project and refuses the options only start uses", () => {
    expect(issues(scenario("{ kind: docker, mode: attach, proxy: true, keep: true }"))).toEqual([
      "s.yaml:2: target.project: missing required field (the compose project to attach to) (add project: <name> (`docker compose ls` lists them))",
      "s.yaml:2: target.proxy: only applies when faultline starts the containers (mode: start) (remove proxy, or use mode: start)",
      "s.yaml:2: target.keep: only applies when faultline starts the containers (mode: start) (remove keep, or use mode: start)",
      // Someone else's stack: faultline cannot know which models it serves.
      "s.yaml:3: load.mix[0].model: missing required field for a docker target (the model to ask for) (add model: <a model the service serves> (`GET /v1/models` lists them))",
    ]);
  });

  it("replicas: one container per fault (not container:api), no toxiproxy in front, start only", () => {
    expect(issues(scenario("{ kind: docker, replicas: 2 }"))).toEqual([
      's.yaml:5: faults[0].target: unknown target "container:api" for a docker target (this target offers: container:api#1, container:api#2, container:lb, load, link:client-api)',
    ]);
    expect(
      issues(scenario("{ kind: docker, replicas: 2, proxy: true }", "container-pause", "container:lb")),
    ).toEqual([
      "s.yaml:2: target.proxy: the toxiproxy container cannot sit in front of replicas yet (HAProxy is the front) (remove proxy, or use replicas: 1)",
    ]);
    expect(
      issues(scenario("{ kind: docker, mode: attach, project: shop, replicas: 2, services: [api] }")).filter(
        (i) => i.includes("replicas"),
      ),
    ).toEqual([
      "s.yaml:2: target.replicas: only applies when faultline starts the containers (mode: start) (remove replicas, or use mode: start)",
    ]);
  });

  it("start refuses services, and project names follow compose's rule", () => {
    expect(issues(scenario("{ kind: docker, services: [api] }"))).toEqual([
      "s.yaml:2: target.services: only applies to mode: attach (faultline's own stack offers api, toxiproxy, model, and api#N and lb with replicas) (remove services)",
    ]);
    expect(issues(scenario("{ kind: docker, project: My_Stack }"))).toEqual([
      "s.yaml:2: target.project: expected lowercase letters, digits, '_' or '-'",
    ]);
  });
});
