import { connect } from "node:net";

/**
 * A revert that finds the fault's carrier gone: the embedded Toxiproxy died with the harness
 * (its toxics died with it), the container was removed, the frozen process no longer exists.
 * Nothing is left in effect, so this counts as reverted; the message says why, so cleanup can
 * tell the user instead of pretending it removed something.
 */
export class CarrierGoneError extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = "CarrierGoneError";
  }
}

export const isCarrierGone = (e: unknown): e is CarrierGoneError => e instanceof CarrierGoneError;

/**
 * Whether anything accepts TCP connections at the URL's host and port. Only a refused
 * connection counts as "nothing": a timeout or another error leaves the question open (true),
 * so a slow or unreachable carrier is never mistaken for a gone one.
 */
export function isListening(url: string, timeoutMs = 1000): Promise<boolean> {
  const u = new URL(url);
  const port = Number(u.port || (u.protocol === "https:" ? 443 : 80));
  return new Promise((resolve) => {
    const socket = connect({ host: u.hostname.replace(/^\[|\]$/g, ""), port });
    const done = (listening: boolean): void => {
      socket.destroy();
      resolve(listening);
    };
    socket.setTimeout(timeoutMs, () => done(true));
    socket.once("connect", () => done(true));
    socket.once("error", (e: NodeJS.ErrnoException) => done(e.code !== "ECONNREFUSED"));
  });
}
