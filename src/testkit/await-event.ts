import { SwarmbankError } from '../errors.js';
import type { RuntimeEvent } from '../actors/events.js';
import type { Runtime } from '../actors/runtime.js';

export class AwaitEventTimeoutError extends SwarmbankError {
  constructor(timeoutMs: number) {
    super('AWAIT_EVENT_TIMEOUT', `no matching runtime event within ${timeoutMs} ms`);
  }
}

/** Resolves with the next event on the runtime's stream that satisfies `predicate` (real-time timeout). */
export function awaitEvent<E extends RuntimeEvent = RuntimeEvent>(
  runtime: Runtime,
  predicate: (event: RuntimeEvent) => boolean,
  timeoutMs = 3_000,
): Promise<E> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      unsubscribe();
      reject(new AwaitEventTimeoutError(timeoutMs));
    }, timeoutMs);
    const unsubscribe = runtime.events.subscribe((event) => {
      if (!predicate(event)) return;
      clearTimeout(timer);
      unsubscribe();
      resolve(event as E);
    });
  });
}

/** Lets queued actor work run: a few macrotask turns, enough for batches scheduled by a clock step. */
export async function flush(turns = 5): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise((resolve) => setImmediate(resolve));
}
