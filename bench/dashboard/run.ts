import { runDashboardBenchmarks } from "./index.js";

/** `node --import tsx bench/dashboard/run.ts [--quick]`: the dashboard benchmark alone, rows as JSON. */
const rows = await runDashboardBenchmarks({ quick: process.argv.includes("--quick") });
process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
