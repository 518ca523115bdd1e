import http from "node:http";
import type { AddressInfo } from "node:net";

/**
 * The "trivial local server" of the load benchmarks, in its own process so it does not share
 * the generator's event loop. Prints {"port": N} once listening; exits when stdin closes or
 * on SIGTERM.
 */
const server = http.createServer((_req, res) => {
  res.writeHead(200, { "content-type": "text/plain", "content-length": "2" });
  res.end("ok");
});
server.keepAliveTimeout = 60_000;
server.listen(0, "127.0.0.1", () => {
  process.stdout.write(`${JSON.stringify({ port: (server.address() as AddressInfo).port })}\n`);
});
const stop = (): void => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
};
process.on("SIGTERM", stop);
process.stdin.on("end", stop);
process.stdin.resume();
