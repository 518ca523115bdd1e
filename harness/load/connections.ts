import { Client, Pool, type Dispatcher } from "undici";

/** A request handler the connections can route: where it went, and whether it waited in the pool. */
export interface Routed extends Dispatcher.DispatchHandler {
  /** The connection undici handed it to; null while it waits in the pool's queue. */
  client: Client | null;
  /** Counted in the pool's queue (see Connections.waiting). */
  waitsInPool: boolean;
}

/**
 * undici's Pool, plus a hand-over for a saturated run: the next request may go straight to
 * the connection whose answer has just completed.
 *
 * Through the pool, that request would find every connection busy (undici calls the handler's
 * onComplete before it frees the connection), wait in the pool's queue, and be handed over
 * only when that connection announces itself free: one event-loop turn for undici to free it,
 * a 'drain' event, and because the connection then counts as idle and reused, a second turn
 * to validate the idle socket and a keep-alive timer set and cleared. Dispatched to the
 * connection directly, the request waits as the next one on it and is written after the one
 * turn (undici's own rule for a connection it reuses). Only completed answers hand over
 * (after an error or a deadline the pool chooses, as before), and only when nothing waits in
 * the pool's queue, so a request that waits there is never passed by a later one.
 */
export class Connections {
  readonly pool: Pool;
  /** Requests the pool holds in its own queue: sent when no connection was free, not yet on one. */
  private waiting = 0;

  constructor(origin: string, options: Pool.Options) {
    this.pool = new Pool(origin, {
      ...options,
      factory: (url, opts) => new RoutingClient(url, opts, this),
    });
  }

  /**
   * Hands `h` to undici: to `via` (a connection that has just completed an answer) when it
   * can take it and nothing waits in the pool, otherwise to the pool.
   */
  dispatch(opts: Dispatcher.DispatchOptions, h: Routed, via: Client | null): void {
    if (via !== null && this.waiting === 0 && !via.closed && !via.destroyed) {
      via.dispatch(opts, h);
      return;
    }
    h.client = null;
    this.pool.dispatch(opts, h);
    if (h.client === null) {
      h.waitsInPool = true;
      this.waiting++;
    }
  }

  /** A connection took `h` (called by the connection itself, from the pool or a hand-over). */
  taken(h: Routed, client: Client): void {
    h.client = client;
    if (!h.waitsInPool) return;
    h.waitsInPool = false;
    this.waiting--;
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}

/** An undici Client that tells the connections which routed handler it took. */
class RoutingClient extends Client {
  constructor(
    url: URL,
    opts: Client.Options,
    private readonly owner: Connections,
  ) {
    super(url, opts);
  }

  override dispatch(opts: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    if (isRouted(handler)) this.owner.taken(handler, this);
    return super.dispatch(opts, handler);
  }
}

function isRouted(h: Dispatcher.DispatchHandler): h is Routed {
  return "waitsInPool" in h;
}
