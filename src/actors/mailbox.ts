/**
 * A FIFO queue on a growable ring buffer: push and shift are O(1) with no
 * per-message allocation, which is what lets one nact turn drain thousands of
 * messages. One queue per actor keeps every sender's messages in order.
 */
/** A mailbox that emptied after a burst gives its buffer back rather than holding it for the actor's life. */
const SHRINK_ABOVE = 1024;
const INITIAL_CAPACITY = 4;

/** Shared by every empty mailbox until its first message: an idle actor costs no buffer. */
const NO_ITEMS: readonly never[] = Object.freeze([]);

export class Mailbox<T> {
  private items: (T | undefined)[] = NO_ITEMS as never[];
  private head = 0;
  private count = 0;

  get size(): number {
    return this.count;
  }

  push(item: T): void {
    if (this.count === this.items.length) this.grow();
    this.items[(this.head + this.count) & (this.items.length - 1)] = item;
    this.count++;
  }

  shift(): T | undefined {
    if (this.count === 0) return undefined;
    const item = this.items[this.head];
    this.items[this.head] = undefined;
    this.head = (this.head + 1) & (this.items.length - 1);
    if (--this.count === 0 && this.items.length > SHRINK_ABOVE) this.reset();
    return item;
  }

  /** Empties the queue, returning what it held in order. */
  drainAll(): T[] {
    const out: T[] = [];
    while (this.count > 0) out.push(this.shift() as T);
    return out;
  }

  private reset(): void {
    this.items = NO_ITEMS as never[];
    this.head = 0;
  }

  private grow(): void {
    const next: (T | undefined)[] = new Array(Math.max(INITIAL_CAPACITY, this.items.length * 2));
    for (let i = 0; i < this.count; i++) next[i] = this.items[(this.head + i) & (this.items.length - 1)];
    this.items = next;
    this.head = 0;
  }
}
