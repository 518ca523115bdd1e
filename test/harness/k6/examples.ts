import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { format, resolveConfig } from "prettier";
import { FAULT_KINDS } from "../../../harness/faults/registry.js";
import { exportK6Script } from "../../../harness/k6/export.js";
import { parseScenario } from "../../../harness/scenario/load.js";
import type { Scenario } from "../../../harness/scenario/schema.js";

/**
 * The k6 examples shipped in scenarios/k6/, each exported from a scenario file. The examples
 * test checks the committed scripts equal a fresh export; regenerate them with
 *   node --import tsx test/harness/k6/regenerate-examples.ts
 */
export const ROOT = fileURLToPath(new URL("../../../", import.meta.url));

export const EXAMPLES: readonly { readonly source: string; readonly script: string }[] = [
  { source: "scenarios/ci/00-baseline.yaml", script: "scenarios/k6/00-baseline.ts" },
  { source: "scenarios/ci/06-latency.yaml", script: "scenarios/k6/06-latency.ts" },
  { source: "test/harness/k6/fixtures/mixed-ramp.yaml", script: "scenarios/k6/mixed-ramp.ts" },
];

export async function loadScenarioFile(relPath: string): Promise<Scenario> {
  const text = await readFile(`${ROOT}${relPath}`, "utf8");
  const r = parseScenario(text, relPath, FAULT_KINDS);
  if (!r.ok) throw new Error(r.issues.map((i) => `${i.path}: ${i.message}`).join("\n"));
  return r.value.scenario;
}

/** The export as shipped: formatted with the repository's prettier settings (the format check covers scenarios/k6). */
export async function exportExample(source: string, script: string): Promise<string> {
  const text = exportK6Script(await loadScenarioFile(source));
  const config = (await resolveConfig(`${ROOT}${script}`)) ?? {};
  return format(text, { ...config, parser: "typescript" });
}
