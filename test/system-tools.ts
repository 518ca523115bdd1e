import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";

/**
 * Tests that need a system program (not an npm package). Without it they are skipped with one
 * line naming the Debian package to install, except in CI (CI=true), where a missing program
 * must fail the run rather than pass it silently (.ci/run installs every one of them).
 */
export function missingTool(command: string, args: readonly string[], aptPackage: string): string | null {
  const probe = spawnSync(command, args, { encoding: "utf8", timeout: 5_000 });
  if (probe.status === 0) return null;
  const why = probe.error?.message ?? `exit ${String(probe.status)}`;
  return `${command} not found or not runnable (${why}); install Debian's ${aptPackage} package: apt-get install ${aptPackage}`;
}

/** Reports a missing tool once: throws under CI=true, else writes the skip line. True when missing. */
export function gateTool(reason: string | null, what: string): boolean {
  if (reason === null) return false;
  if (process.env["CI"] === "true") throw new Error(`CI=true but ${reason}`);
  process.stderr.write(`${what} skipped: ${reason}\n`);
  return true;
}

/**
 * The browser for the report tests: FAULTLINE_CHROMIUM, else Debian's /usr/bin/chromium, else
 * undefined (Playwright's own Chromium, if `npx playwright install chromium` put one there).
 */
export function chromiumPath(): string | undefined {
  const configured = process.env["FAULTLINE_CHROMIUM"];
  if (configured) return configured;
  return existsSync("/usr/bin/chromium") ? "/usr/bin/chromium" : undefined;
}
