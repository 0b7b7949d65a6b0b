/**
 * Time as the runtime sees it. Timers, backoff delays, ask timeouts and fault
 * plans all go through a Clock, so a test can step a manual clock
 * (swarmbank/testkit) instead of sleeping.
 */
export interface TimerHandle {
  readonly cancel: () => void;
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
    return { cancel: () => clearTimeout(handle) };
  },
};
