import { RunNotPossibleError } from "../../common/errors.js";

export interface ProxySpec {
  readonly name: string;
  readonly listenPort: number;
  /** host:port as the proxy container resolves it (a compose service name). */
  readonly upstream: string;
}

/**
 * Creates proxies through POST /populate, which the official Toxiproxy and faultline's
 * embedded one both serve; an identical existing proxy is kept, so running it again is
 * harmless. Retries until the server answers or `timeoutMs` passes (it may still be starting).
 */
export async function populateProxies(
  toxiproxyUrl: string,
  proxies: readonly ProxySpec[],
  timeoutMs: number,
): Promise<void> {
  const body = JSON.stringify(
    proxies.map((p) => ({
      name: p.name,
      listen: `0.0.0.0:${p.listenPort}`,
      upstream: p.upstream,
      enabled: true,
    })),
  );
  const deadline = Date.now() + timeoutMs;
  let last = "no answer";
  while (Date.now() < deadline) {
    try {
      const res = await fetch(`${toxiproxyUrl}/populate`, {
        method: "POST",
        body,
        signal: AbortSignal.timeout(2000),
      });
      if (res.status === 201) return;
      last = `HTTP ${res.status}: ${(await res.text()).trim()}`;
    } catch (e) {
      last = (e as Error).message;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new RunNotPossibleError(`Toxiproxy at ${toxiproxyUrl} did not accept the proxies: ${last}`);
}
