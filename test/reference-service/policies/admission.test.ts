import { describe, expect, it } from "vitest";
import { ManualClock } from "../../../common/clock.js";
import type { ApiError } from "../../../reference-service/api/errors.js";
import { AdmissionControl } from "../../../reference-service/policies/admission.js";

interface Deferred {
  promise: Promise<string>;
  resolve: (v: string) => void;
}
function deferred(): Deferred {
  let resolve!: (v: string) => void;
  const promise = new Promise<string>((r) => (resolve = r));
  return { promise, resolve };
}

function setup() {
  const clock = new ManualClock();
  const rejections: string[] = [];
  const ac = new AdmissionControl(
    { maxConcurrent: 2, maxQueue: 1, queueTimeoutMs: 1000, rateWindowMs: 10_000 },
    clock,
    (code, reason) => rejections.push(`${code} ${reason}`),
  );
  const signal = new AbortController().signal;
  const hold = (d: Deferred) => ac.execute(() => d.promise, signal);
  return { clock, rejections, ac, signal, hold };
}

const errorOf = async (p: Promise<unknown>): Promise<ApiError> => {
  try {
    await p;
  } catch (e) {
    return e as ApiError;
  }
  throw new Error("expected a rejection");
};

describe("AdmissionControl", () => {
  it("runs up to maxConcurrent, queues up to maxQueue, refuses beyond with 429 and a cold Retry-After", async () => {
    const { ac, hold, rejections } = setup();
    const [a, b, c] = [deferred(), deferred(), deferred()];
    const pa = hold(a);
    void hold(b);
    const pc = hold(c);
    expect([ac.running, ac.queued]).toEqual([2, 1]);
    const e = await errorOf(hold(deferred()));
    // No completion observed yet: 1000 ms assumed per place. 1 queued ahead at the full rate, the
    // newcomer's own place at the retries' half of it: 1000 + 2000.
    expect([e.status, e.code, e.retryAfterMs]).toEqual([429, "capacity_exceeded", 3000]);
    expect(rejections).toEqual(["429 queue_full"]);
    a.resolve("a");
    expect(await pa).toEqual("a");
    c.resolve("c");
    expect(await pc).toEqual("c");
  });

  it("computes Retry-After from the observed drain rate, so the retry finds a place", async () => {
    const { ac, hold, clock } = setup();
    const ds = [deferred(), deferred(), deferred()];
    const ps = ds.map(hold);
    await clock.advanceAsync(500);
    ds[0].resolve("0"); // one completion in 500 ms of life: 2 per second
    await ps[0];
    expect([ac.running, ac.queued]).toEqual([2, 0]);
    void hold(deferred()); // fills the queue again
    const e = await errorOf(hold(deferred()));
    expect(e.retryAfterMs).toEqual(1500); // 1 queued at 2/s, its own place at 1/s
    await clock.advanceAsync(1000 - 1);
    ds[1].resolve("1"); // a place frees up before the advertised time (and the queue timeout)
    await ps[1];
    expect(ac.queued).toEqual(0);
    void hold(deferred());
    expect(ac.queued).toEqual(1);
  });

  it("sheds a request that waited queueTimeoutMs with 503 queue_timeout", async () => {
    const { clock, hold, ac, rejections } = setup();
    void hold(deferred());
    void hold(deferred());
    const queued = errorOf(hold(deferred()));
    await clock.advanceAsync(999);
    expect(ac.queued).toEqual(1);
    await clock.advanceAsync(1);
    const e = await queued;
    expect([e.status, e.code]).toEqual([503, "queue_timeout"]);
    expect(ac.queued).toEqual(0);
    expect(rejections).toEqual(["503 queue_timeout"]);
  });

  it("drops a queued request whose client went away", async () => {
    const { ac, hold } = setup();
    void hold(deferred());
    void hold(deferred());
    const ctrl = new AbortController();
    const p = errorOf(ac.execute(() => Promise.resolve("never"), ctrl.signal));
    expect(ac.queued).toEqual(1);
    ctrl.abort(new Error("client closed"));
    expect((await p).message).toEqual("client closed");
    expect(ac.queued).toEqual(0);
  });

  it("refuses new work with 503 draining while queued and running work continues", async () => {
    const { ac, hold, rejections } = setup();
    const [a, b, c] = [deferred(), deferred(), deferred()];
    const ps = [hold(a), hold(b), hold(c)];
    ac.beginDrain();
    const e = await errorOf(hold(deferred()));
    expect([e.status, e.code]).toEqual([503, "draining"]);
    a.resolve("a");
    b.resolve("b");
    c.resolve("c");
    expect(await Promise.all(ps)).toEqual(["a", "b", "c"]);
    expect([ac.running, ac.queued]).toEqual([0, 0]);
    expect(rejections).toEqual(["503 draining"]);
  });
});

describe("AdmissionControl keeps its Retry-After promises", () => {
  it("counts promised places as work ahead, and a retry redeems one to wait at the head, past a full queue", async () => {
    const { ac, hold, signal } = setup();
    const [a, b, c] = [deferred(), deferred(), deferred()];
    const started: string[] = [];
    const track = (name: string, d: Deferred) => () => (started.push(name), d.promise);
    const ps = [
      ac.execute(track("a", a), signal),
      ac.execute(track("b", b), signal),
      ac.execute(track("c", c), signal),
    ];
    // Cold estimate, 1000 ms per place, promised places at half that rate: the 1st refused is
    // told 1000 (the queued one) + 2000 (its own place), the 2nd 1000 + 2 x 2000.
    expect((await errorOf(hold(deferred()))).retryAfterMs).toEqual(3000);
    expect((await errorOf(hold(deferred()))).retryAfterMs).toEqual(5000);
    expect(ac.promised).toEqual(2);
    const r = deferred();
    const retried = ac.execute(track("retry", r), signal, true);
    expect([ac.queued, ac.promised]).toEqual([2, 1]);
    // A fresh arrival still finds the queue full.
    expect((await errorOf(hold(deferred()))).status).toEqual(429);
    a.resolve("a");
    await ps[0];
    await Promise.resolve();
    // The freed slot goes to the redeemed retry, ahead of c, which was queued first.
    expect(started).toEqual(["a", "b", "retry"]);
    b.resolve("b");
    r.resolve("r");
    c.resolve("c");
    expect(await Promise.all([ps[1], ps[2], retried])).toEqual(["b", "c", "r"]);
    expect(started).toEqual(["a", "b", "retry", "c"]);
  });

  it("a waiting retry takes a place set aside, not one of the maxQueue places of fresh arrivals", async () => {
    const { ac, hold, signal } = setup();
    void hold(deferred());
    void hold(deferred());
    const ctrl = new AbortController();
    const gone = errorOf(ac.execute(() => Promise.resolve("never"), ctrl.signal));
    expect((await errorOf(hold(deferred()))).status).toEqual(429);
    ctrl.abort(new Error("client closed"));
    await gone;
    void ac.execute(() => Promise.resolve("retry"), signal, true);
    expect([ac.queued, ac.promised]).toEqual([1, 0]);
    // The one fresh place is still free.
    void hold(deferred());
    expect(ac.queued).toEqual(2);
    expect((await errorOf(hold(deferred()))).status).toEqual(429);
  });

  it("promises no more places than the retries' half of the drain serves in 60 s (30 before any completion)", async () => {
    const { ac, hold } = setup();
    void hold(deferred());
    void hold(deferred());
    void hold(deferred());
    const waits: (number | undefined)[] = [];
    for (let i = 0; i < 31; i++) waits.push((await errorOf(hold(deferred()))).retryAfterMs);
    expect(ac.promised).toEqual(30);
    // The k-th refused is told 1000 (the queued one) + k x 2000; the 31st finds the book full.
    expect([waits[0], waits[29], waits[30]]).toEqual([3000, 61_000, 63_000]);
  });

  it("a retry with no open promise is a newcomer, refused when the queue is full", async () => {
    const { ac, hold, signal } = setup();
    void hold(deferred());
    void hold(deferred());
    void hold(deferred());
    const e = await errorOf(ac.execute(() => Promise.resolve("x"), signal, true));
    expect([e.status, e.retryAfterMs, ac.queued]).toEqual([429, 3000, 1]);
  });

  it("a promise lapses once its Retry-After plus a queue timeout has passed; draining promises nothing", async () => {
    const { ac, hold, clock } = setup();
    void hold(deferred());
    void hold(deferred());
    const queued = errorOf(hold(deferred()));
    // Refused at 0 (told 3000): promised until 0 + 3000 + the 1000 ms queue timeout.
    expect((await errorOf(hold(deferred()))).retryAfterMs).toEqual(3000);
    await clock.advanceAsync(1000);
    // The queued one timed out at 1000, queue empty, one promise ahead of it: 2 x 2000 = 4000,
    // promised until 1000 + 4000 + 1000.
    expect([(await queued).code, (await queued).retryAfterMs]).toEqual(["queue_timeout", 4000]);
    await clock.advanceAsync(3000 - 1);
    expect(ac.promised).toEqual(2);
    await clock.advanceAsync(1);
    expect(ac.promised).toEqual(1);
    await clock.advanceAsync(2000);
    expect(ac.promised).toEqual(0);
    ac.beginDrain();
    expect((await errorOf(hold(deferred()))).code).toEqual("draining");
    expect(ac.promised).toEqual(0);
  });
});
