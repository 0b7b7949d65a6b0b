import { Mailbox } from './mailbox.js';

/** Something with messages to process: given a budget, it processes up to that many and says how many it took. */
export interface Runnable {
  runTurn(budget: number): number;
}

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
 */
export class Dispatcher {
  private readonly ready = new Mailbox<Runnable>();
  /** A turn has been asked of the host and has not finished. */
  private pending = false;
  private readonly wake: () => void;

  /** `host` gives the turn to a nact actor and returns how to ask that actor for one. */
  constructor(
    private readonly budget: number,
    host: (turn: () => void) => () => void,
  ) {
    this.wake = host(() => this.turn());
  }

  schedule(actor: Runnable): void {
    this.ready.push(actor);
    if (!this.pending) {
      this.pending = true;
      this.wake();
    }
  }

  private turn(): void {
    const ready = this.ready;
    let left = this.budget;
    try {
      while (left > 0 && ready.size > 0) left -= (ready.shift() as Runnable).runTurn(left);
    } finally {
      // Also after a throw, so that one failing visit does not stall every other actor.
      if (ready.size > 0) this.wake();
      else this.pending = false;
    }
  }
}
