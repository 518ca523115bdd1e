/**
 * Container health check for images without a shell or curl:
 * `node healthcheck.js URL` exits 0 when URL answers 2xx within 1.5 s, else 1.
 */
const url = process.argv[2];
if (url === undefined) {
  process.stderr.write("usage: healthcheck.js URL\n");
  process.exit(2);
}
try {
  const res = await fetch(url, { signal: AbortSignal.timeout(1500) });
  process.exit(res.ok ? 0 : 1);
} catch {
  process.exit(1);
}
