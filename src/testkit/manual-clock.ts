import type { Clock, TimerHandle } from '../actors/clock.js';

/**
 * A clock that moves only when the test says so. Timers, backoff delays, ask
 * timeouts and fault-plan steps on a runtime created with it fire in time
 * order during `advance`, so a test steps through a 30-second backoff in
 * microseconds and always sees the same order.
 */
export class ManualClock implements Clock {
  private time = 0;
  private sequence = 0;
  private timers: { at: number; order: number; callback: () => void; cancelled: boolean }[] = [];

  now(): number {
    return this.time;
  }

  setTimeout(callback: () => void, delayMs: number): TimerHandle {
    const timer = { at: this.time + Math.max(0, delayMs), order: this.sequence++, callback, cancelled: false };
    this.timers.push(timer);
    return {
      cancel: () => {
        timer.cancelled = true;
      },
    };
  }

  /** Timers still waiting to fire. */
  get pending(): number {
    return this.timers.filter((t) => !t.cancelled).length;
  }

  /** When the next timer is due, if any. */
  get nextDueAt(): number | undefined {
    return this.due(Number.POSITIVE_INFINITY)?.at;
  }

  /** Moves time forward by `ms`, firing every timer that falls due, including ones those timers start. */
  advance(ms: number): void {
    if (!(ms >= 0)) throw new RangeError(`advance needs ms >= 0, got ${ms}`);
    const until = this.time + ms;
    for (let timer = this.due(until); timer; timer = this.due(until)) {
      this.timers = this.timers.filter((t) => t !== timer);
      this.time = timer.at;
      timer.callback();
    }
    this.time = until;
  }

  private due(until: number) {
    let next: (typeof this.timers)[number] | undefined;
    for (const timer of this.timers) {
      if (timer.cancelled || timer.at > until) continue;
      if (!next || timer.at < next.at || (timer.at === next.at && timer.order < next.order)) next = timer;
    }
    this.timers = this.timers.filter((t) => !t.cancelled);
    return next;
  }
}
