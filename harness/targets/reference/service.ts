import type { Runtime } from "../../../common/runtime.js";

/**
 * The reference service's own code that CLI commands run: `faultline serve-reference` serves it,
 * `faultline models generate` writes a model for its real engine. Each is imported only when
 * its command runs, so other commands start without loading the service.
 */
export async function serveReference(argv: readonly string[], runtime: Runtime): Promise<number> {
  return (await import("../../../reference-service/main.js")).run(argv, runtime);
}

/** The reference service's model cache (GGUF writer), for `faultline models generate`. */
export const referenceModelCache = () => import("../../../reference-service/llama/model-cache.js");
