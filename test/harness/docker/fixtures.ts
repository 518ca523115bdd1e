import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type Docker from "dockerode";
import { ensureImages } from "../../../harness/docker/images.js";
import { COMPOSE_LABELS, LABELS } from "../../../harness/docker/labels.js";

export const TEST_IMAGE = "faultline/runtime:test";
const projectRoot = fileURLToPath(new URL("../../../", import.meta.url));

/**
 * faultline's images under the "test" tag, built from the current dist/ once and reused
 * across files and runs while dist/ is unchanged; a lock directory keeps two test files from
 * building at the same time. The container tests run their tiny servers in the runtime image.
 */
export async function ensureTestImage(docker: Docker): Promise<void> {
  const lock = join(tmpdir(), "faultline-test-image.lock");
  await takeLock(lock);
  try {
    const built = await ensureImages({ docker, projectRoot, tag: "test" });
    if (built) process.stderr.write(`docker test images built in ${Math.round(built.durationMs)} ms\n`);
  } finally {
    await rm(lock, { recursive: true, force: true });
  }
}

/** A lock directory holding its owner's pid; a lock whose owner died (a killed test run) is broken. */
async function takeLock(lock: string): Promise<void> {
  for (let i = 0; ; i++) {
    try {
      await mkdir(lock);
      await writeFile(join(lock, "pid"), String(process.pid));
      return;
    } catch {
      const owner = Number(await readFile(join(lock, "pid"), "utf8").catch(() => "0"));
      if (owner > 0 && !alive(owner)) await rm(lock, { recursive: true, force: true });
      if (i > 1800) throw new Error(`lock ${lock} held for 180 s by pid ${owner}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * A tiny HTTP server: GET / answers "ok"; GET /hog starts allocating 4 MiB every 50 ms and
 * keeping it (bounded at 1 GiB), to meet a memory limit.
 */
export const SERVER_JS = [
  "const http=require('http');const hog=[];",
  "http.createServer((q,s)=>{",
  "if(q.url==='/hog'){const t=setInterval(()=>{hog.push(Buffer.alloc(4<<20,1));if(hog.length>=256)clearInterval(t)},50);s.end('hog\\n');return}",
  "s.end('ok\\n')}).listen(8080,'0.0.0.0')",
].join("");

export interface ServerOptions {
  readonly runLabel: string;
  readonly restart?: "no" | "always" | "on-failure";
  readonly network?: string;
  readonly alias?: string;
  /** Label the container as service "srv" of this compose project (for event watching and discovery). */
  readonly composeProject?: string;
  /** Run docker-init as PID 1 (signals without a handler then take their default action). */
  readonly init?: boolean;
}

export async function startServer(docker: Docker, o: ServerOptions): Promise<Docker.Container> {
  const c = await docker.createContainer({
    Image: TEST_IMAGE,
    Cmd: ["-e", SERVER_JS],
    Labels: {
      [LABELS.managed]: "true",
      [LABELS.run]: o.runLabel,
      ...(o.composeProject
        ? { [COMPOSE_LABELS.project]: o.composeProject, [COMPOSE_LABELS.service]: "srv" }
        : {}),
    },
    ExposedPorts: { "8080/tcp": {} },
    HostConfig: {
      PortBindings: { "8080/tcp": [{ HostIp: "127.0.0.1", HostPort: "" }] },
      RestartPolicy: { Name: o.restart ?? "no" },
      Init: o.init ?? false,
      ...(o.network ? { NetworkMode: o.network } : {}),
    },
    ...(o.network && o.alias
      ? { NetworkingConfig: { EndpointsConfig: { [o.network]: { Aliases: [o.alias] } } } }
      : {}),
  });
  await c.start();
  return c;
}

/** The host port the container's 8080 is published on now (it can change across restarts). */
export async function hostPort(c: Docker.Container): Promise<number | null> {
  const ports = (await c.inspect()).NetworkSettings.Ports as Record<
    string,
    { HostPort: string }[] | null
  > | null;
  const port = ports?.["8080/tcp"]?.[0]?.HostPort;
  return port ? Number(port) : null;
}

/** GET / on the container's published port; the body, or the error code. */
export async function probe(c: Docker.Container, timeoutMs = 1000): Promise<string> {
  const port = await hostPort(c);
  if (port === null) return "no-port";
  try {
    const res = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(timeoutMs) });
    return (await res.text()).trim();
  } catch (e) {
    const cause = (e as { cause?: { code?: string } }).cause;
    return cause?.code ?? (e as Error).name;
  }
}

export async function waitFor(check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`condition not met within ${timeoutMs} ms`);
}

/** Removes every container and network a test run labelled. */
export async function removeLabelled(docker: Docker, runLabel: string): Promise<void> {
  const filters = { label: [`${LABELS.run}=${runLabel}`] };
  for (const c of await docker.listContainers({ all: true, filters })) {
    await docker
      .getContainer(c.Id)
      .remove({ force: true })
      .catch(() => {});
  }
  for (const n of await docker.listNetworks({ filters })) {
    await docker
      .getNetwork(n.Id)
      .remove()
      .catch(() => {});
  }
}
