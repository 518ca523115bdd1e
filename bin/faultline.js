#!/usr/bin/env node
// Thin launcher: the CLI lives in dist/ (built by `npm run build`, which `npm ci` runs via prepare).
import { existsSync } from "node:fs";

const entry = new URL("../dist/harness/cli/main.js", import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write("faultline: dist/ is missing. Run `npm run build` (or `npm ci`) first.\n");
  process.exit(3);
}
await import(entry.href);
