import { runReportBenchmarks } from "./index.js";

/** `node --import tsx bench/reports/run.ts`: the report benchmark alone, rows as JSON on stdout. */
const rows = await runReportBenchmarks();
process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
