/**
 * Time as the runtime sees it. Timers, backoff delays, ask timeouts and fault
 * plans all go through a Clock, so a test can step a manual clock
 * (swarmbank/testkit) instead of sleeping.
 */
export interface TimerHandle {
  readonly cancel: () => void;
  /**
   * Whether the pending timer keeps the process alive (it does until told
   * otherwise). Only a clock on the event loop needs it: a manual clock
   * leaves it out.
   */
  readonly keepAlive?: (keep: boolean) => void;
}

export interface Clock {
  /** Milliseconds, monotonic. */
  now(): number;
  setTimeout(callback: () => void, delayMs: number): TimerHandle;
}

export const systemClock: Clock = {
  now: () => performance.now(),
  setTimeout(callback, delayMs) {
    const handle = setTimeout(callback, Math.max(0, delayMs));
    return {
      cancel: () => clearTimeout(handle),
      keepAlive: (keep) => void (keep ? handle.ref() : handle.unref()),
    };
  },
};
