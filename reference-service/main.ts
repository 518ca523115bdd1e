/**
 * Reference service entry (API process):
 *   node dist/reference-service/main.js --port 0 --state-dir DIR [--config FILE] [--upstream URL]
 *     [--breaker.failure-threshold N ...every config leaf, see config.ts]
 * Prints one line `faultline reference service listening on http://127.0.0.1:PORT` to stdout.
 * Exit codes: 0 after a graceful drain (SIGTERM/SIGINT), 1 forced by a second signal or a
 * fatal error, 2 bad flags or config (message naming the field on stderr).
 */
import { pathToFileURL } from "node:url";
import { isInvalidInputError } from "../common/errors.js";
import { processRuntime, type Runtime } from "../common/runtime.js";
import { isLoopbackHost, loadConfig, type ServiceConfig } from "./config.js";
import { serveReference } from "./serve.js";

export async function run(argv: readonly string[], runtime: Runtime): Promise<number> {
  let service;
  try {
    const config = await loadConfig(argv, runtime.env);
    service = await serveReference({ config }, runtime);
    const exposure = exposureNotice(config);
    if (exposure) runtime.stderr.write(`${exposure}\n`);
  } catch (e) {
    if (isInvalidInputError(e)) {
      runtime.stderr.write(`faultline reference service: invalid configuration\n${e.message}\n`);
      if (e.hint) runtime.stderr.write(`hint: ${e.hint}\n`);
      return 2;
    }
    runtime.stderr.write(`faultline reference service: ${(e as Error).message}\n`);
    return 1;
  }
  runtime.stdout.write(`faultline reference service listening on ${service.url}\n`);
  const svc = service;
  return new Promise<number>((resolve) => {
    let signals = 0;
    const onSignal = (): void => {
      signals++;
      if (signals === 1) {
        runtime.stderr.write("draining: finishing in-flight requests (signal again to force)\n");
        svc.close().then(
          // forceClose cuts the in-flight requests, which lets this drain finish first: a
          // forced exit must still report 1, so only an unforced drain decides the code.
          () => signals === 1 && resolve(0),
          () => resolve(1),
        );
      } else void svc.forceClose().finally(() => resolve(1));
    };
    runtime.onSignal("SIGTERM", onSignal);
    runtime.onSignal("SIGINT", onSignal);
  });
}

/** One line saying what a non-loopback bind exposes (config.ts refused the unsafe case). */
export function exposureNotice(config: ServiceConfig): string | null {
  if (isLoopbackHost(config.host)) return null;
  const control =
    config.adminToken === null
      ? "state-changing endpoints refused (no adminToken)"
      : "state-changing endpoints need the admin token";
  return `faultline reference service: listening on non-loopback host ${config.host}: the model API, /metrics and /v1/reliability are open to the network; ${control}`;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const code = await run(process.argv.slice(2), processRuntime());
  process.exit(code);
}
