import { describe, expect, it } from "vitest";
import { Attempt, DeadlineQueue, type AttemptSink } from "../../../harness/load/attempt.js";
import { prepareRequest } from "../../../harness/load/templates.js";

const req = prepareRequest({ kind: "http", path: "/" });

/** A 200 with no body arrives for `a`. */
function answer(a: Attempt): void {
  a.onHeaders(200, []);
  a.onComplete();
}

/** Attempts with deadline = row, whose settlements (row, end, outcome) are recorded. */
function setup(): { queue: DeadlineQueue; add: (row: number) => Attempt; settled: string[] } {
  const queue = new DeadlineQueue();
  const settled: string[] = [];
  const sink: AttemptSink = {
    now: () => 0,
    firstByte: () => {},
    settle: (a, end, outcome) => {
      settled.push(`${a.row}@${end}:${outcome}`);
      queue.settled(a.deadlineSlot);
    },
  };
  const add = (row: number): Attempt => {
    const a = new Attempt(row, row, req, sink);
    a.deadlineSlot = queue.push(a);
    return a;
  };
  return { queue, add, settled };
}

describe("DeadlineQueue", () => {
  it("expires only the attempts still pending at their deadline, in order", () => {
    const { queue, add, settled } = setup();
    const attempts = [1, 2, 3, 4, 5].map(add);
    answer(attempts[0]); // leaves the queue
    answer(attempts[2]);
    expect(queue.next()).toBe(2);
    expect(queue.expireDue(4)).toBe(5);
    expect(settled).toEqual(["1@0:ok", "3@0:ok", "2@2:timeout", "4@4:timeout"]);
    expect(queue.expireDue(10)).toBeUndefined();
    expect(settled.at(-1)).toBe("5@5:timeout");
  });

  it("keeps the slots of attempts in flight right when the queue compacts", () => {
    const { queue, add, settled } = setup();
    const attempts = Array.from({ length: 6000 }, (_, row) => add(row));
    for (let row = 100; row < 5000; row++) answer(attempts[row]);
    // Rows 0-99 time out; the head passes row 5,000 and the queue drops the 5,000 slots
    // before it while rows 5000-5999 are still in flight.
    expect(queue.expireDue(99)).toBe(5000);
    for (let row = 5000; row < 5999; row++) if (row !== 5500) answer(attempts[row]);
    settled.length = 0;
    expect(queue.expireDue(6000)).toBeUndefined();
    expect(settled).toEqual(["5500@5500:timeout", "5999@5999:timeout"]);
  });
});
