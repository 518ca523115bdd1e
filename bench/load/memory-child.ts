/**
 * Fills a RequestLog with `rows` requests in a fresh process and prints one JSON line
 * {grownBytes, length}: what the log added to array buffers and heap. In the bench's own
 * process a collection of an earlier run's garbage during the fill made the figure negative
 * (one run measured -11.9 bytes per request).
 * Run: node --import tsx bench/load/memory-child.ts <rows>
 */
import { OUTCOME_CODE } from "../../common/outcome.js";
import { RequestLog } from "../../harness/load/index.js";

const rows = Number(process.argv[2] ?? 1_000_000);
const before = process.memoryUsage();
const log = new RequestLog();
for (let i = 0; i < rows; i++) {
  const row = log.add(i, 0);
  log.setSent(row, i + 0.1);
  log.setFirstByte(row, i + 0.5);
  log.finish(row, i + 1, OUTCOME_CODE.ok, 200, 2);
}
const after = process.memoryUsage();
const grownBytes = after.arrayBuffers - before.arrayBuffers + Math.max(0, after.heapUsed - before.heapUsed);
process.stdout.write(`${JSON.stringify({ grownBytes, length: log.length })}\n`);
