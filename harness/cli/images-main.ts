/**
 * Thin entry for CI and scripts without the CLI: builds faultline's images.
 *   node dist/harness/cli/images-main.js [--tag local]
 * Exit codes: 0 built, 3 no engine or the build failed (message and hint on stderr).
 */
import { parseArgs } from "node:util";
import { FaultlineError } from "../../common/errors.js";
import { processRuntime } from "../../common/runtime.js";
import { imagesBuildCommand } from "./commands/images-build.js";

const { values } = parseArgs({ options: { tag: { type: "string", default: "local" } } });
try {
  process.exitCode = await imagesBuildCommand({ tag: values.tag }, processRuntime());
} catch (e) {
  const hint = e instanceof FaultlineError && e.hint ? `\nhint: ${e.hint}` : "";
  process.stderr.write(`faultline images build: ${(e as Error).message}${hint}\n`);
  process.exitCode = 3;
}
