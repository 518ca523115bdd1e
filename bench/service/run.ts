import { runServiceBenchmarks } from "./index.js";

/** `node --import tsx bench/service/run.ts [--quick]`: the service benchmarks alone, rows as JSON on stdout. */
const quick = process.argv.includes("--quick");
const rows = await runServiceBenchmarks(quick ? { samples: 300, crashes: 1 } : {});
process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
