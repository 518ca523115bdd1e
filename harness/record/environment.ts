import os from "node:os";
import type { RunRecord } from "./schema.js";

/** Where the run happened, for the record (numbers from a laptop and a CI box differ). */
export function collectEnvironment(faultlineVersion: string): RunRecord["environment"] {
  return {
    faultline: faultlineVersion,
    node: process.version,
    platform: process.platform,
    arch: process.arch,
    cpus: os.cpus().length,
    memoryBytes: os.totalmem(),
    hostname: os.hostname(),
  };
}
