import { spawnSync } from "node:child_process";

/**
 * Tests that run a real HAProxy need Debian's haproxy package. Without it they are skipped
 * with a one-line reason naming the package, except in CI (CI=true), where a missing HAProxy
 * must fail the run rather than pass it silently (.ci/run installs it).
 */
const bin = process.env["FAULTLINE_HAPROXY"] || "haproxy";
const probe = spawnSync(bin, ["-v"], { encoding: "utf8", timeout: 5_000 });
export const haproxyReason =
  probe.status === 0
    ? null
    : `${bin} not found or not runnable (${probe.error?.message ?? `exit ${String(probe.status)}`}); install Debian's haproxy package: apt-get install haproxy`;

if (haproxyReason !== null) {
  if (process.env["CI"] === "true") throw new Error(`CI=true but ${haproxyReason}`);
  process.stderr.write(`haproxy tests skipped: ${haproxyReason}\n`);
}

export const skipWithoutHaproxy = haproxyReason !== null;
