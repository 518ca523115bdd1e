import { writeFile } from "node:fs/promises";
import { EXAMPLES, ROOT, exportExample } from "./examples.js";

/** `node --import tsx test/harness/k6/regenerate-examples.ts`: rewrites scenarios/k6/*.ts from their sources. */
for (const e of EXAMPLES) {
  await writeFile(`${ROOT}${e.script}`, await exportExample(e.source, e.script));
  process.stdout.write(`${e.source} -> ${e.script}\n`);
}
