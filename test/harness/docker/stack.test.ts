import { describe, expect, it } from "vitest";
import { containerSpec, containerName, networkName } from "../../../harness/docker/stack.js";

const opts = {
  project: "shop",
  runId: "r1",
  tag: "local",
  proxy: true,
  apiArgs: ["--breaker.failure-threshold", "3"],
  restart: "unless-stopped" as const,
};

describe("stack container specs", () => {
  it("the API: reference image, compose labels, fixed loopback port, alias, init, restart policy", () => {
    expect(containerSpec(opts, "api", { 8080: 41000 })).toEqual({
      name: "shop-api-1",
      Image: "faultline/reference:local",
      Cmd: [
        "--host",
        "0.0.0.0",
        "--port",
        "8080",
        "--state-dir",
        "/var/lib/faultline/reference",
        "--allow-non-loopback",
        "--breaker.failure-threshold",
        "3",
      ],
      Labels: {
        "io.faultline.managed": "true",
        "io.faultline.run": "r1",
        "com.docker.compose.project": "shop",
        "com.docker.compose.service": "api",
      },
      ExposedPorts: { "8080/tcp": {} },
      NetworkingConfig: { EndpointsConfig: { shop_default: { Aliases: ["api"] } } },
      HostConfig: {
        NetworkMode: "shop_default",
        PortBindings: { "8080/tcp": [{ HostIp: "127.0.0.1", HostPort: "41000" }] },
        Init: true,
        RestartPolicy: { Name: "unless-stopped" },
      },
    });
  });

  it("a replica: its own name, alias api-N and compose container number, no published port", () => {
    const spec = containerSpec({ ...opts, replicas: 2 }, "api", {}, 2);
    expect([spec.name, spec.Labels, spec.NetworkingConfig, spec.HostConfig?.PortBindings]).toEqual([
      "shop-api-2",
      {
        "io.faultline.managed": "true",
        "io.faultline.run": "r1",
        "com.docker.compose.project": "shop",
        "com.docker.compose.service": "api",
        "com.docker.compose.container-number": "2",
        "io.faultline.replica": "2",
      },
      { EndpointsConfig: { shop_default: { Aliases: ["api-2"] } } },
      {},
    ]);
  });

  it("HAProxy: the haproxy image's own command, frontend, stats and runtime API published", () => {
    const spec = containerSpec(opts, "lb", { 8080: 41010, 8404: 41011, 9999: 41012 });
    expect([spec.name, spec.Image, spec.Cmd, Object.keys(spec.ExposedPorts ?? {})]).toEqual([
      "shop-lb-1",
      "faultline/haproxy:local",
      undefined,
      ["8080/tcp", "8404/tcp", "9999/tcp"],
    ]);
  });

  it("the proxy: toxiproxy image with its API and listen ports published", () => {
    const spec = containerSpec(opts, "toxiproxy", { 8474: 41001, 8666: 41002 });
    expect([spec.name, spec.Image, spec.Cmd, spec.HostConfig?.PortBindings]).toEqual([
      "shop-toxiproxy-1",
      "faultline/toxiproxy:local",
      undefined,
      {
        "8474/tcp": [{ HostIp: "127.0.0.1", HostPort: "41001" }],
        "8666/tcp": [{ HostIp: "127.0.0.1", HostPort: "41002" }],
      },
    ]);
  });

  it("with a model service: the API forwards to it by its alias; the model publishes nothing", () => {
    const withModel = { ...opts, apiArgs: [], model: true };
    const serve = [
      "--host",
      "0.0.0.0",
      "--port",
      "8080",
      "--state-dir",
      "/var/lib/faultline/reference",
      "--allow-non-loopback",
    ];
    const model = containerSpec(withModel, "model", {});
    expect([
      containerSpec(withModel, "api", { 8080: 41000 }).Cmd,
      model.name,
      model.Image,
      model.Cmd,
      model.HostConfig?.PortBindings,
      model.NetworkingConfig,
    ]).toEqual([
      [...serve, "--upstream", "http://model:8080"],
      "shop-model-1",
      "faultline/reference:local",
      serve,
      {},
      { EndpointsConfig: { shop_default: { Aliases: ["model"] } } },
    ]);
  });

  it("names follow compose v2", () => {
    expect([networkName("shop"), containerName("shop", "toxiproxy")]).toEqual([
      "shop_default",
      "shop-toxiproxy-1",
    ]);
  });
});
