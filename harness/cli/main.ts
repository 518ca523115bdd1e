import { processRuntime } from "../../common/runtime.js";
import { configFlagTable } from "../../reference-service/config.js";
import { run as runReference } from "../../reference-service/main.js";
import { reportCommand } from "../../reports/index.js";
import { runCleanup } from "../faults/cleanup.js";
import { FAULT_KINDS } from "../faults/registry.js";
import { runScenarios } from "../runner/suite.js";
import { runToxiproxyCommand } from "../toxiproxy/command.js";
import { run } from "./program.js";
import { packageVersion } from "./version.js";

// Thin entry (STYLE habit 11): build the runtime and the dependencies, run, exit.
const rt = processRuntime();
const code = await run(process.argv.slice(2), rt, {
  version: packageVersion(),
  catalog: FAULT_KINDS,
  runScenarios,
  report: reportCommand,
  cleanup: runCleanup,
  serveReference: runReference,
  referenceFlags: () => [...configFlagTable().keys()],
  toxiproxy: runToxiproxyCommand,
});
process.exit(code);
