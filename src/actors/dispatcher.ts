import { Mailbox } from './mailbox.js';

/** Something with messages to process: given a budget, it processes up to that many and says how many it took. */
export interface Runnable {
  runTurn(budget: number): number;
}

/** `then` on a settled promise queues a microtask; node's `queueMicrotask` also makes an async resource for each. */
const RESOLVED = Promise.resolve();

/**
 * Runs every non-persistent actor of a runtime in the turns of one shared
 * nact actor. A nact actor for each swarmbank actor cost about 1.9 kB of heap
 * and 11 µs once it had had a message (100k actors), more than the rest of
 * the actor and twice a raw nact actor in all. So actors wait in a FIFO run
 * queue instead, and one nact turn visits them in order until the queue is
 * empty or `budget` messages have been processed, then yields to I/O. An
 * actor that becomes ready during a turn (a reply, a child's first message)
 * runs in the same turn; one whose mailbox outlasts the budget goes back to
 * the end of the queue, so a busy actor cannot starve the others.
 *
 * A message from outside any turn (an ask from user code, a timer, a network
 * frame) finds the dispatcher idle. nact runs each turn in a `setImmediate`,
 * so waiting for one cost such a message a whole event-loop iteration, which
 * made a sequential ask slower than a raw nact query. That turn runs as a
 * microtask instead, as long as fewer than `budget` messages have been
 * processed since the host's last turn began: the host's turns are the
 * yields to I/O, and at most `budget` messages still run between two of them.
 */
export class Dispatcher {
  private readonly ready = new Mailbox<Runnable>();
  /** A turn has been asked of the host, or queued as a microtask, and has not finished. */
  private pending = false;
  /** Messages processed since the host's last turn began: since the last yield to I/O that the dispatcher knows of. */
  private sinceYield = 0;
  private readonly wake: () => void;
  private readonly microTurn = (): void => {
    try {
      this.turn();
    } catch {
      // As on the host, which resumes after a turn that threw: `turn` has already asked for the next one.
    }
  };

  /** `host` gives the turn to a nact actor and returns how to ask that actor for one. */
  constructor(
    private readonly budget: number,
    host: (turn: () => void) => () => void,
  ) {
    this.wake = host(() => {
      this.sinceYield = 0;
      this.turn();
    });
  }

  schedule(actor: Runnable): void {
    this.ready.push(actor);
    if (this.pending) return;
    this.pending = true;
    if (this.sinceYield < this.budget) void RESOLVED.then(this.microTurn);
    else this.wake();
  }

  private turn(): void {
    const ready = this.ready;
    let left = this.budget - this.sinceYield;
    try {
      while (left > 0 && ready.size > 0) left -= (ready.shift() as Runnable).runTurn(left);
    } finally {
      this.sinceYield = this.budget - left;
      // Also after a throw, so that one failing visit does not stall every other actor.
      if (ready.size > 0) this.wake();
      else this.pending = false;
    }
  }
}
