import { isDeepStrictEqual } from 'node:util';
import { SwarmbankError } from '../errors.js';
import { stateless } from '../actors/behaviour.js';
import type { ActorRef, AnyActorRef, Terminated } from '../actors/ref.js';
import type { Runtime } from '../actors/runtime.js';

/** A probe expectation that did not hold. */
export class ProbeExpectationError extends SwarmbankError {
  constructor(message: string) {
    super('PROBE_EXPECTATION', message);
  }
}

export interface TestProbe<Msg> {
  /** Send to this ref; the probe records what arrives. It also accepts `Terminated`, so it can watch actors. */
  readonly ref: ActorRef<Msg | Terminated>;
  /** Everything received so far and not yet taken by an expectation. */
  readonly queued: readonly (Msg | Terminated)[];
  /** The next message; if `expected` is given, it must be deep-equal to it or satisfy it. */
  expectMessage(expected?: Msg | ((message: Msg) => boolean), timeoutMs?: number): Promise<Msg>;
  /** Fails if any message arrives within `ms` (real time). */
  expectNoMessage(ms?: number): Promise<void>;
  /** Watches `target` and waits for its `Terminated`. */
  expectTerminated(target: AnyActorRef, timeoutMs?: number): Promise<Terminated>;
  stop(): Promise<void>;
}

let probes = 0;

/**
 * A real actor whose received messages a test can await, as Akka's
 * TestProbe. Waits are in real time, independent of the runtime's clock.
 */
export function createTestProbe<Msg>(runtime: Runtime, name = `probe-${++probes}`): TestProbe<Msg> {
  const queue: (Msg | Terminated)[] = [];
  let waiter: (() => void) | undefined;
  const ref = runtime.spawn<Msg | Terminated>(
    runtime.root,
    stateless((message: Msg | Terminated) => {
      queue.push(message);
      waiter?.();
    }),
    { name },
  );

  const next = (timeoutMs: number, what: string): Promise<Msg | Terminated> => {
    const queued = queue.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        waiter = undefined;
        reject(new ProbeExpectationError(`${ref.path}: timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      waiter = () => {
        clearTimeout(timer);
        waiter = undefined;
        resolve(queue.shift() as Msg | Terminated);
      };
    });
  };

  return {
    ref,
    get queued() {
      return [...queue];
    },
    async expectMessage(expected, timeoutMs = 3_000) {
      const message = (await next(timeoutMs, 'a message')) as Msg;
      if (expected === undefined) return message;
      const ok = typeof expected === 'function' ? (expected as (m: Msg) => boolean)(message) : isDeepStrictEqual(message, expected);
      if (!ok) throw new ProbeExpectationError(`${ref.path}: unexpected message ${describe(message)}; expected ${describe(expected)}`);
      return message;
    },
    async expectNoMessage(ms = 100) {
      if (queue.length > 0) throw new ProbeExpectationError(`${ref.path}: expected no message, got ${describe(queue[0])}`);
      await new Promise((resolve) => setTimeout(resolve, ms));
      if (queue.length > 0) throw new ProbeExpectationError(`${ref.path}: expected no message, got ${describe(queue[0])}`);
    },
    async expectTerminated(target, timeoutMs = 3_000) {
      runtime.watch(ref, target);
      const message = await next(timeoutMs, `Terminated(${target.path})`);
      const terminated = message as Terminated;
      if (terminated?.type !== 'terminated' || terminated.path !== target.path) {
        throw new ProbeExpectationError(`${ref.path}: expected Terminated(${target.path}), got ${describe(message)}`);
      }
      return terminated;
    },
    stop: () => runtime.stop(ref),
  };
}

function describe(value: unknown): string {
  try {
    return typeof value === 'function' ? 'a predicate' : JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
