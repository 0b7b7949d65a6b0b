import { afterEach, describe, expect, it } from 'vitest';
import {
  AskTimeoutError,
  ask,
  createRuntime,
  dispatch,
  stateless,
  type ActorRef,
  type Runtime,
  type RuntimeEvent,
} from '../../src/index.js';
import { ManualClock, flush } from '../../src/testkit/index.js';

interface Question {
  readonly replyTo: ActorRef<number>;
}

const runtimes: Runtime[] = [];
function runtime(clock?: ManualClock): Runtime {
  const rt = createRuntime({ clock });
  runtimes.push(rt);
  return rt;
}
afterEach(async () => {
  await Promise.all(runtimes.splice(0).map((rt) => rt.stop()));
});

const silent = stateless((_: Question) => undefined);
const echo = stateless((message: Question) => dispatch(message.replyTo, 1));
const question = (replyTo: ActorRef<number>): Question => ({ replyTo });

/** What a promise has come to so far: 'pending', or its value or error. */
function track(promise: Promise<unknown>): () => unknown {
  let outcome: unknown = 'pending';
  promise.then(
    (value) => (outcome = value),
    (error: unknown) => (outcome = error),
  );
  return () => outcome;
}

/** Refed timers of this process: what keeps it alive. */
function refedTimers(): number {
  return process.getActiveResourcesInfo().filter((resource) => resource === 'Timeout').length;
}

describe('pending asks', () => {
  it('times out each of several asks sharing a timeout at its own deadline on the manual clock', async () => {
    const clock = new ManualClock();
    const rt = runtime(clock);
    const ref = rt.spawn(rt.root, silent, { name: 'silent' });
    const first = track(ask(ref, question, 100));
    clock.advance(40);
    const second = track(ask(ref, question, 100));
    await flush();
    clock.advance(59);
    await flush();
    expect(first()).toBe('pending');
    clock.advance(1);
    await flush();
    expect(first()).toBeInstanceOf(AskTimeoutError);
    expect(second()).toBe('pending');
    expect(rt.metrics().pendingAsks).toBe(1);
    clock.advance(40);
    await flush();
    expect(second()).toBeInstanceOf(AskTimeoutError);
    expect((second() as AskTimeoutError).path).toBe('/silent');
    expect((second() as AskTimeoutError).timeoutMs).toBe(100);
    expect(rt.metrics().pendingAsks).toBe(0);
  });

  it('times out asks with different timeouts independently, the shorter first', async () => {
    const clock = new ManualClock();
    const rt = runtime(clock);
    const ref = rt.spawn(rt.root, silent, { name: 'silent' });
    const long = track(ask(ref, question, 500));
    const short = track(ask(ref, question, 50));
    await flush();
    clock.advance(50);
    await flush();
    expect(short()).toBeInstanceOf(AskTimeoutError);
    expect(long()).toBe('pending');
    clock.advance(450);
    await flush();
    expect(long()).toBeInstanceOf(AskTimeoutError);
  });

  it('times out an ask made after earlier ones with its timeout were answered', async () => {
    const clock = new ManualClock();
    const rt = runtime(clock);
    const answering = rt.spawn(rt.root, echo, { name: 'echo' });
    const quiet = rt.spawn(rt.root, silent, { name: 'silent' });
    await expect(ask(answering, question, 100)).resolves.toBe(1);
    clock.advance(70);
    const late = track(ask(quiet, question, 100));
    await flush();
    clock.advance(99);
    await flush();
    expect(late()).toBe('pending');
    clock.advance(1);
    await flush();
    expect(late()).toBeInstanceOf(AskTimeoutError);
  });

  it('records a reply after the timeout as a dead letter of the reply ref, and does not settle the ask again', async () => {
    const clock = new ManualClock();
    const rt = runtime(clock);
    const letters: RuntimeEvent[] = [];
    rt.events.on('dead-letter', (event) => letters.push(event));
    let replyTo: ActorRef<number> | undefined;
    const slow = rt.spawn(rt.root, stateless((m: Question) => void (replyTo = m.replyTo)), { name: 'slow' });
    const outcome = track(ask(slow, question, 10));
    await flush();
    clock.advance(10);
    await flush();
    dispatch(replyTo as ActorRef<number>, 42);
    await flush();
    expect(outcome()).toBeInstanceOf(AskTimeoutError);
    expect(letters).toMatchObject([{ type: 'dead-letter', path: '/slow/$ask', message: 42, reason: 'ask-expired' }]);
    expect(replyTo?.path).toBe('/slow/$ask');
  });

  it('leaves no timer on the clock once the runtime stops, even after its asks were answered', async () => {
    const clock = new ManualClock();
    const rt = runtime(clock);
    const ref = rt.spawn(rt.root, echo, { name: 'echo' });
    await ask(ref, question, 1_000);
    await rt.stop();
    expect(clock.pending).toBe(0);
  });

  it('keeps the process alive while an ask is pending, and not once it is answered', async () => {
    const rt = runtime();
    const ref = rt.spawn(rt.root, echo, { name: 'echo' });
    const before = refedTimers();
    const answer = ask(ref, question, 60_000);
    expect(refedTimers()).toBe(before + 1);
    await expect(answer).resolves.toBe(1);
    expect(refedTimers()).toBe(before);
    const next = ask(ref, question, 60_000);
    expect(refedTimers()).toBe(before + 1);
    await next;
    expect(refedTimers()).toBe(before);
  });
});
