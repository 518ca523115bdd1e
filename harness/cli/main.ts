import { processRuntime } from "../../common/runtime.js";
import { FAULT_KINDS } from "../faults/registry.js";
import { serveReference } from "../targets/reference/service.js";
import { run } from "./program.js";
import { packageVersion } from "./version.js";

// Thin entry (STYLE habit 11): build the runtime and the dependencies, run, exit. The heavier
// parts (runner, reports, reference service, Toxiproxy) are imported when a command needs
// them, so `validate`, `plan` and a rejected `run` start fast.
const rt = processRuntime();
const code = await run(process.argv.slice(2), rt, {
  version: packageVersion(),
  catalog: FAULT_KINDS,
  runScenarios: async (paths, flags, ctx) =>
    (await import("./commands/run-scenarios.js")).runScenarios(paths, flags, ctx),
  report: async (dir, options, runtime) =>
    (await import("./commands/report.js")).reportCommand(dir, options, runtime),
  cleanup: async (options) => (await import("../faults/cleanup.js")).runCleanup(options),
  serveReference,
  toxiproxy: async (options, runtime) =>
    (await import("./commands/toxiproxy.js")).runToxiproxyCommand(options, runtime),
});
process.exit(code);
