import { processRuntime } from "../../common/runtime.js";
import { run } from "./program.js";
import { packageVersion } from "./version.js";

// Thin entry (STYLE habit 11): build the runtime and the dependencies, run, exit.
const rt = processRuntime();
const code = await run(process.argv.slice(2), rt, {
  version: packageVersion(),
  catalog: {},
});
process.exit(code);
