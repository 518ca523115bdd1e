import { parseArgs } from "node:util";
import { processRuntime } from "../../common/runtime.js";
import { FaultlineError } from "../../common/errors.js";
import { runToxiproxyCommand } from "../cli/commands/toxiproxy.js";

/**
 * Thin entry: `node main.js --host 127.0.0.1 --port 8474 [--seed N] [--config proxies.json]
 * [--proxy-metrics] [--allow-non-loopback]`.
 */
async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      host: { type: "string", default: "127.0.0.1" },
      port: { type: "string", default: "8474" },
      seed: { type: "string" },
      "allow-non-loopback": { type: "boolean", default: false },
      "proxy-metrics": { type: "boolean", default: false },
      config: { type: "string" },
    },
  });
  return runToxiproxyCommand(
    {
      host: values.host,
      port: Number(values.port),
      seed: values.seed === undefined ? undefined : Number(values.seed),
      allowNonLoopback: values["allow-non-loopback"],
      proxyMetrics: values["proxy-metrics"],
      config: values.config,
    },
    processRuntime(),
  );
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof FaultlineError) {
      process.stderr.write(`${error.message}${error.hint ? `\n${error.hint}` : ""}\n`);
      process.exit(2);
    }
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
