/**
 * A real Toxiproxy for the proxy bench to compare the embedded one with, in the same run:
 * TOXIPROXY_URL names a running server's API (e.g. http://127.0.0.1:8474), or TOXIPROXY_BIN a
 * toxiproxy-server binary, started here on a free loopback port and stopped afterwards. Neither
 * set: no comparison (no binary can be downloaded on the CI machine).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { freePort } from "../../harness/targets/haproxy.js";

export interface RealToxiproxy {
  /** Where the comparison runs, for the bench's note. */
  readonly description: string;
  /** Port of the bench's proxy on it (no toxic), to the given upstream. */
  readonly port: number;
  close(): Promise<void>;
}

const PROXY_NAME = "faultline-bench";

async function waitForApi(url: string, child: ChildProcess | null, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (child && child.exitCode !== null) throw new Error(`toxiproxy-server exited with ${child.exitCode}`);
    try {
      if ((await fetch(`${url}/version`, { signal: AbortSignal.timeout(1000) })).ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > until) throw new Error(`no Toxiproxy API at ${url} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Opens the real Toxiproxy the environment names, with one proxy to `upstreamPort`; null when none is named. */
export async function openRealToxiproxy(
  upstreamPort: number,
  env: NodeJS.ProcessEnv = process.env,
): Promise<RealToxiproxy | null> {
  let url = env.TOXIPROXY_URL?.replace(/\/+$/, "");
  let child: ChildProcess | null = null;
  if (!url && env.TOXIPROXY_BIN) {
    const port = await freePort();
    // Go's flag package takes --host as well as -host, so the same arguments also start
    // `faultline toxiproxy` (how this path is tested without a Toxiproxy binary).
    child = spawn(env.TOXIPROXY_BIN, ["--host", "127.0.0.1", "--port", String(port)], { stdio: "ignore" });
    url = `http://127.0.0.1:${port}`;
  }
  if (!url) return null;
  const stop = async (): Promise<void> => {
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((r) => child?.once("exit", r));
    child.kill("SIGTERM");
    await exited;
  };
  try {
    await waitForApi(url, child, 10_000);
    // A proxy of that name left by an interrupted bench run would refuse the create (409).
    await fetch(`${url}/proxies/${PROXY_NAME}`, { method: "DELETE" });
    const created = await fetch(`${url}/proxies`, {
      method: "POST",
      body: JSON.stringify({
        name: PROXY_NAME,
        listen: "127.0.0.1:0",
        upstream: `127.0.0.1:${upstreamPort}`,
      }),
    });
    if (!created.ok) throw new Error(`creating the bench proxy: ${created.status} ${await created.text()}`);
    const listen = ((await created.json()) as { listen: string }).listen;
    const version = (await (await fetch(`${url}/version`)).text()).trim();
    const base = url;
    return {
      description: `${child ? `${env.TOXIPROXY_BIN ?? ""} started here` : base}, version ${version}`,
      port: Number(listen.slice(listen.lastIndexOf(":") + 1)),
      close: async () => {
        await fetch(`${base}/proxies/${PROXY_NAME}`, { method: "DELETE" }).catch(() => undefined);
        await stop();
      },
    };
  } catch (e) {
    await stop();
    throw e;
  }
}
