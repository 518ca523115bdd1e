/**
 * One-shot compose service: creates the client -> API proxy in the stack's Toxiproxy, then
 * exits 0 (1 with the reason on stderr if the server never accepts it).
 *   node proxy-setup.js TOXIPROXY_URL [NAME=LISTEN_PORT=UPSTREAM ...]
 * Without proxy arguments it creates the stack's default proxy, "api" on 8666 -> api:8080.
 */
import { FaultlineError } from "../../common/errors.js";
import { populateProxies, type ProxySpec } from "./proxy-populate.js";
import { API_PROXY } from "./stack.js";

function parseProxy(arg: string): ProxySpec {
  const [name, port, upstream] = arg.split("=");
  if (!name || !port || !upstream || !Number.isInteger(Number(port))) {
    throw new Error(`proxy "${arg}" is not NAME=LISTEN_PORT=UPSTREAM (e.g. api=8666=api:8080)`);
  }
  return { name, listenPort: Number(port), upstream };
}

const [url, ...rest] = process.argv.slice(2);
try {
  if (!url) throw new Error("usage: proxy-setup.js TOXIPROXY_URL [NAME=LISTEN_PORT=UPSTREAM ...]");
  const proxies = rest.length > 0 ? rest.map(parseProxy) : [API_PROXY];
  await populateProxies(url, proxies, 60_000);
  process.stdout.write(
    `proxy-setup: ${proxies.map((p) => `${p.name} :${p.listenPort} -> ${p.upstream}`).join(", ")}\n`,
  );
} catch (e) {
  process.stderr.write(
    `proxy-setup: ${(e as Error).message}${e instanceof FaultlineError && e.hint ? `\n${e.hint}` : ""}\n`,
  );
  process.exitCode = 1;
}
