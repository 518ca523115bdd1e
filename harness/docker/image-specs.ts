import { LABELS } from "./labels.js";
import { HAPROXY_CONTAINER_PORTS } from "../targets/haproxy-config.js";
import { IMAGE_PATHS } from "./rootfs.js";

export const IMAGE_KINDS = ["runtime", "reference", "toxiproxy", "haproxy"] as const;
export type ImageKind = (typeof IMAGE_KINDS)[number];
/** The images made from the runtime image (node and the project); haproxy is a root filesystem of its own. */
export type NodeImageKind = Exclude<ImageKind, "haproxy">;
export const isNodeImage = (k: ImageKind): k is NodeImageKind => k !== "haproxy";

export const IMAGE_REPOS: Readonly<Record<ImageKind, string>> = {
  runtime: "faultline/runtime",
  reference: "faultline/reference",
  toxiproxy: "faultline/toxiproxy",
  haproxy: "faultline/haproxy",
};

/** Ports the services listen on inside their containers. */
export const CONTAINER_PORTS = { reference: 8080, toxiproxyApi: 8474 } as const;

/** Where the reference service keeps its state inside the container. */
export const REFERENCE_STATE_DIR = `${IMAGE_PATHS.stateDir}/reference`;

export function imageRef(kind: ImageKind, tag: string): string {
  return `${IMAGE_REPOS[kind]}:${tag}`;
}

const node = IMAGE_PATHS.node;
const dist = `${IMAGE_PATHS.app}/dist`;

/** Entry module (under /app/dist) of each service image. */
export const ENTRY_MODULES: Readonly<Record<Exclude<NodeImageKind, "runtime">, string>> = {
  reference: "reference-service/main.js",
  toxiproxy: "harness/toxiproxy/main.js",
};

/** The health check as a node one-shot (the image has no shell and no curl). */
function healthcheck(url: string): string {
  return `HEALTHCHECK --interval=2s --timeout=2s --start-period=5s --retries=3 CMD ["${node}", "${dist}/harness/docker/healthcheck.js", "${url}"]`;
}

/** Dockerfile of a service image; only metadata on top of the runtime image. */
export function dockerfileFor(kind: NodeImageKind, tag: string): string {
  const from = `FROM ${imageRef("runtime", tag)}`;
  const label = `LABEL ${LABELS.managed}="true" ${LABELS.image}="${kind}"`;
  switch (kind) {
    case "runtime":
      return [from, label, `ENTRYPOINT ["${node}"]`, ""].join("\n");
    case "reference": {
      const p = CONTAINER_PORTS.reference;
      return [
        from,
        label,
        `WORKDIR ${IMAGE_PATHS.app}`,
        `EXPOSE ${p}`,
        // SIGTERM is the service's drain signal; give it the drain budget before SIGKILL.
        "STOPSIGNAL SIGTERM",
        healthcheck(`http://127.0.0.1:${p}/health/ready`),
        `ENTRYPOINT ["${node}", "${dist}/${ENTRY_MODULES.reference}"]`,
        `CMD ["--host", "0.0.0.0", "--port", "${p}", "--state-dir", "${REFERENCE_STATE_DIR}", "--allow-non-loopback"]`,
        "",
      ].join("\n");
    }
    case "toxiproxy": {
      const p = CONTAINER_PORTS.toxiproxyApi;
      return [
        from,
        label,
        `WORKDIR ${IMAGE_PATHS.app}`,
        `EXPOSE ${p}`,
        healthcheck(`http://127.0.0.1:${p}/version`),
        `ENTRYPOINT ["${node}", "${dist}/${ENTRY_MODULES.toxiproxy}"]`,
        `CMD ["--host", "0.0.0.0", "--port", "${p}", "--allow-non-loopback"]`,
        "",
      ].join("\n");
    }
    default: {
      const never: never = kind;
      throw new Error(`unknown image kind ${String(never)}`);
    }
  }
}

/**
 * What `docker import` sets on the HAProxy image (it has no shell and no node, so no health
 * check: the Docker target asks HAProxy's runtime API instead). `-db`: foreground, logs on
 * stdout; SIGTERM from `docker stop` is HAProxy's hard stop, as for any HAProxy container.
 */
export function haproxyImageChanges(labels: string): string[] {
  return [
    `LABEL ${labels}`,
    `ENTRYPOINT ["${IMAGE_PATHS.haproxy}"]`,
    `CMD ["-db", "-f", "${IMAGE_PATHS.haproxyConfig}"]`,
    `EXPOSE ${HAPROXY_CONTAINER_PORTS.frontend} ${HAPROXY_CONTAINER_PORTS.stats} ${HAPROXY_CONTAINER_PORTS.runtimeApi}`,
  ];
}
