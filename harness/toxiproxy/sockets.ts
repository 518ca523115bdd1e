import type { Socket } from "node:net";

/**
 * Sockets whose close must be abortive. The real server calls SetLinger(0) on both sockets of
 * a connection accepted while a reset_peer toxic is on one of its streams; from then on every
 * close of that socket, for whatever reason, sends an RST instead of a FIN.
 */
const lingerZero = new WeakSet<Socket>();

export function setLingerZero(socket: Socket): void {
  lingerZero.add(socket);
}

/**
 * The equivalent of Go's `conn.Close()`: a full close (both directions). Data already handed
 * to the socket still goes out before the FIN, as it would from the kernel buffer; with
 * linger 0 the close is an RST and unsent data is discarded.
 */
export function closeSocket(socket: Socket): void {
  if (socket.destroyed) return;
  if (lingerZero.has(socket)) {
    resetSocket(socket);
    return;
  }
  if (socket.writableLength === 0 || socket.connecting) {
    socket.destroy();
    return;
  }
  socket.end(() => socket.destroy());
  // A peer that never reads must not keep the socket (and the proxy's stop) waiting.
  setTimeout(() => socket.destroy(), 2000).unref();
}

function resetSocket(socket: Socket): void {
  try {
    socket.resetAndDestroy();
  } catch {
    socket.destroy();
  }
}
