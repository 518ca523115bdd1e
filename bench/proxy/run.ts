import { runProxyBenchmarks } from "./index.js";

/** Manual run: `node --import tsx bench/proxy/run.ts` prints the rows as JSON on stdout. */
const rows = await runProxyBenchmarks();
process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
