import type { Clock, TimerHandle } from './clock.js';

/**
 * A pending ask as its timeout sees it. The queues link the asks themselves,
 * so timing an ask allocates nothing beyond the ask; the links are mutable
 * for that reason and belong to `PendingAsks` alone.
 */
export abstract class TimedAsk {
  /** When the ask times out, on the runtime's clock. */
  deadline = 0;
  /** The queue holding the ask; unset once it has left. */
  queue: TimeoutQueue | undefined = undefined;
  prev: TimedAsk | undefined = undefined;
  next: TimedAsk | undefined = undefined;

  /** The ask's deadline has passed; it has already left its queue. */
  abstract expire(): void;
  /** The runtime is stopping; the ask has already left its queue. */
  abstract abort(error: Error): void;
}

/** The asks of one timeout length, in deadline order (the clock is monotonic), behind one timer. */
class TimeoutQueue {
  head: TimedAsk | undefined = undefined;
  tail: TimedAsk | undefined = undefined;
  timer: TimerHandle | undefined = undefined;

  constructor(readonly timeoutMs: number) {}
}

/** Node turns a longer delay into 1 ms; a deadline further off is reached in steps of this. */
const MAX_DELAY_MS = 2 ** 31 - 1;

/**
 * The asks of one runtime awaiting a reply, with their timeouts. A clock
 * timer per ask was about 40% of the cost of a sequential ask (node makes a
 * timer list for the first timer of a duration and drops it with the last),
 * so asks with the same timeout wait in one queue behind one timer, armed for
 * the earliest deadline and re-armed for the next when it fires. A queue
 * keeps its timer when it empties, so the next ask usually finds one armed;
 * the timer keeps the process alive only while its queue holds an ask, and
 * goes with its queue once it fires with none left.
 */
export class PendingAsks {
  private readonly queues = new Map<number, TimeoutQueue>();

  constructor(private readonly clock: Clock) {}

  /** Times `ask` out after `timeoutMs` unless it is removed first. */
  add(ask: TimedAsk, timeoutMs: number): void {
    let queue = this.queues.get(timeoutMs);
    if (queue === undefined) {
      queue = new TimeoutQueue(timeoutMs);
      this.queues.set(timeoutMs, queue);
    }
    ask.deadline = this.clock.now() + timeoutMs;
    ask.queue = queue;
    const tail = queue.tail;
    if (tail === undefined) {
      queue.head = ask;
      if (queue.timer === undefined) queue.timer = this.arm(queue, timeoutMs);
      else queue.timer.keepAlive?.(true);
    } else {
      tail.next = ask;
      ask.prev = tail;
    }
    queue.tail = ask;
  }

  /** Takes `ask` out of its queue; nothing if it is not in one. */
  remove(ask: TimedAsk): void {
    const queue = ask.queue;
    if (queue === undefined) return;
    const { prev, next } = ask;
    if (prev === undefined) queue.head = next;
    else prev.next = next;
    if (next === undefined) queue.tail = prev;
    else next.prev = prev;
    ask.queue = ask.prev = ask.next = undefined;
    if (queue.head === undefined) queue.timer?.keepAlive?.(false);
  }

  /** Cancels every timer and aborts every pending ask with the error `reason` makes for it. */
  abortAll(reason: () => Error): void {
    const queues = [...this.queues.values()];
    this.queues.clear();
    for (const queue of queues) {
      queue.timer?.cancel();
      queue.timer = undefined;
    }
    for (const queue of queues) {
      for (let ask = queue.head; ask !== undefined; ask = queue.head) {
        this.remove(ask);
        ask.abort(reason());
      }
    }
  }

  private arm(queue: TimeoutQueue, delayMs: number): TimerHandle {
    return this.clock.setTimeout(() => this.fire(queue), Math.min(delayMs, MAX_DELAY_MS));
  }

  private fire(queue: TimeoutQueue): void {
    const now = this.clock.now();
    for (let ask = queue.head; ask !== undefined && ask.deadline <= now; ask = queue.head) {
      this.remove(ask);
      ask.expire();
    }
    const head = queue.head;
    if (head !== undefined) {
      queue.timer = this.arm(queue, head.deadline - now);
    } else {
      queue.timer = undefined;
      this.queues.delete(queue.timeoutMs);
    }
  }
}
