import { afterEach, describe, expect, it } from 'vitest';
import {
  ActorKilledError,
  ask,
  createRuntime,
  dispatch,
  stateful,
  stateless,
  type ActorRef,
  type Runtime,
  type RuntimeEvent,
  type SupervisionPolicy,
} from '../../src/index.js';
import { ManualClock, flush } from '../../src/testkit/index.js';

/**
 * A message is "in flight" while the promise its receive returned has not
 * settled. These tests fix what happens when the incarnation processing it
 * ends first (killed, failed, restarted for a sibling, stopped): it is over,
 * and whatever the message does later must not fail it again.
 */

type Msg =
  | { readonly type: 'add'; readonly n: number }
  /** Adds what `until` resolves with; fails the actor if it rejects. */
  | { readonly type: 'slow'; readonly until: Promise<number> }
  | { readonly type: 'fail' }
  | { readonly type: 'get'; readonly replyTo: ActorRef<number> };

interface Gate {
  readonly until: Promise<number>;
  open(n: number): void;
  fail(error: Error): void;
}

function gate(): Gate {
  let open!: (n: number) => void;
  let fail!: (error: Error) => void;
  const until = new Promise<number>((resolve, reject) => {
    open = resolve;
    fail = reject;
  });
  return { until, open, fail };
}

const runtimes: Runtime[] = [];
afterEach(async () => {
  await Promise.all(runtimes.splice(0).map((rt) => rt.stop()));
});

/** A timeline of the events that matter here and of every onStop call, in the order they happened. */
function setup(options: { stopTimeoutMs?: number } = {}) {
  const clock = new ManualClock();
  const rt = createRuntime({ clock, ...options });
  runtimes.push(rt);
  const events: RuntimeEvent[] = [];
  const timeline: string[] = [];
  rt.events.subscribe((event) => {
    events.push(event);
    if (event.type === 'crashed' || event.type === 'restarted' || event.type === 'stopped' || event.type === 'escalated') {
      timeline.push(`${event.type} ${event.path}`);
    }
    if (event.type === 'after-end') timeline.push(`after-end ${event.path} ${event.outcome}`);
  });
  const counter = stateful<number, Msg>({
    initialState: 0,
    receive(total, message) {
      if (message.type === 'add') return total + message.n;
      if (message.type === 'slow') return message.until.then((n) => total + n);
      if (message.type === 'fail') throw new Error('asked to fail');
      dispatch(message.replyTo, total);
      return total;
    },
    onStop(total, ctx) {
      timeline.push(`onStop ${ctx.path} incarnation ${ctx.incarnation} state ${total}`);
    },
  });
  const get = async (ref: ActorRef<Msg>) => {
    const reply = ask(ref, (replyTo) => ({ type: 'get', replyTo }), 1_000);
    await flush();
    return reply;
  };
  return { rt, clock, events, timeline, counter, get };
}

const quick: SupervisionPolicy = { backoff: { minMs: 5, jitter: 0 } };

describe('a message in flight when its incarnation ends', () => {
  it('does not fail an actor twice when a message in flight fails after a kill', async () => {
    const { rt, clock, events, timeline, counter, get } = setup();
    const ref = rt.spawn(rt.root, counter, { name: 'c', supervision: quick });
    const slow = gate();
    dispatch(ref, { type: 'add', n: 1 });
    const inFlight = { type: 'slow', until: slow.until } as const;
    dispatch(ref, inFlight);
    await flush();
    rt.faults.kill(ref);
    slow.fail(new Error('late'));
    await flush();
    clock.advance(5);
    await flush();

    expect(timeline).toEqual(['crashed /c', 'onStop /c incarnation 0 state 1', 'after-end /c failed', 'restarted /c']);
    const crashed = events.filter((e) => e.type === 'crashed');
    expect(crashed).toHaveLength(1);
    expect(crashed[0]).toMatchObject({ error: expect.any(ActorKilledError), message: undefined, incarnation: 0 });
    expect(events.find((e) => e.type === 'after-end')).toMatchObject({
      path: '/c',
      incarnation: 0,
      message: inFlight,
      outcome: 'failed',
      error: expect.objectContaining({ message: 'late' }),
    });
    expect(rt.metricsOf(ref)).toMatchObject({ failed: 1, failedAfterEnd: 1, restarts: 1, incarnation: 1, status: 'running' });
    expect(rt.metricsOf(ref)?.lastError).toBeInstanceOf(ActorKilledError);
    expect(rt.metrics()).toMatchObject({ failed: 1, failedAfterEnd: 1, restarts: 1 });
    expect(await get(ref)).toBe(0);
  });

  it('does not fail an actor twice when a message in flight fails after the restart delay has passed', async () => {
    const { rt, clock, timeline, counter, get } = setup();
    const ref = rt.spawn(rt.root, counter, { name: 'c', supervision: quick });
    const slow = gate();
    dispatch(ref, { type: 'slow', until: slow.until });
    dispatch(ref, { type: 'add', n: 2 });
    await flush();
    rt.faults.kill(ref);
    // The delay is over, but the next incarnation waits for the message in flight to settle.
    clock.advance(5);
    await flush();
    expect(rt.metricsOf(ref)).toMatchObject({ status: 'restarting', restarts: 0 });
    slow.fail(new Error('late'));
    await flush();

    expect(timeline).toEqual(['crashed /c', 'onStop /c incarnation 0 state 0', 'after-end /c failed', 'restarted /c']);
    expect(rt.metricsOf(ref)).toMatchObject({ failed: 1, failedAfterEnd: 1, restarts: 1, incarnation: 1 });
    // The message queued behind the one in flight is kept for the next incarnation.
    expect(await get(ref)).toBe(2);
  });

  it('does not charge the restart budget for a late failure', async () => {
    const { rt, clock, events, counter } = setup();
    const ref = rt.spawn(rt.root, counter, { name: 'c', supervision: { ...quick, maxRestarts: 1, withinMs: 60_000 } });
    const slow = gate();
    dispatch(ref, { type: 'slow', until: slow.until });
    await flush();
    rt.faults.kill(ref);
    slow.fail(new Error('late'));
    await flush();
    clock.advance(5);
    await flush();

    expect(events.some((e) => e.type === 'escalated')).toBe(false);
    expect(rt.metricsOf(ref)).toMatchObject({ status: 'running', restarts: 1 });
  });

  it('discards the state a message in flight returns after its incarnation ended, and records the late result', async () => {
    const { rt, clock, events, timeline, counter, get } = setup();
    const ref = rt.spawn(rt.root, counter, { name: 'c', supervision: quick });
    const slow = gate();
    dispatch(ref, { type: 'add', n: 1 });
    const inFlight = { type: 'slow', until: slow.until } as const;
    dispatch(ref, inFlight);
    await flush();
    rt.faults.kill(ref);
    clock.advance(5);
    slow.open(100);
    await flush();
    dispatch(ref, { type: 'add', n: 3 });

    expect(await get(ref)).toBe(3);
    expect(timeline).toEqual(['crashed /c', 'onStop /c incarnation 0 state 1', 'after-end /c succeeded', 'restarted /c']);
    const late = events.find((e) => e.type === 'after-end');
    expect(late).toMatchObject({ path: '/c', incarnation: 0, message: inFlight, outcome: 'succeeded' });
    expect(late).not.toHaveProperty('error');
    // It was processed (what it did outside the actor happened), but failed nothing.
    expect(rt.metricsOf(ref)).toMatchObject({ processed: 4, failed: 1, failedAfterEnd: 0, restarts: 1 });
  });

  it('does not fail an actor twice when a message in flight fails after a sibling failure restarted it', async () => {
    const { rt, clock, timeline, counter, get } = setup();
    const parent = rt.spawn(rt.root, stateless((_: never) => undefined), { name: 'p' });
    const policy: SupervisionPolicy = { ...quick, strategy: 'all-for-one', maxRestarts: 1, withinMs: 60_000 };
    const a = rt.spawn(parent, counter, { name: 'a', supervision: policy });
    const b = rt.spawn(parent, counter, { name: 'b', supervision: policy });
    const slow = gate();
    dispatch(b, { type: 'add', n: 1 });
    dispatch(b, { type: 'slow', until: slow.until });
    await flush();
    dispatch(a, { type: 'fail' });
    await flush();
    slow.fail(new Error('late'));
    await flush();
    clock.advance(5);
    await flush();

    expect(timeline).toEqual([
      'crashed /p/a',
      'onStop /p/a incarnation 0 state 0',
      'onStop /p/b incarnation 0 state 1',
      'after-end /p/b failed',
      'restarted /p/a',
      'restarted /p/b',
    ]);
    expect(rt.metricsOf(b)).toMatchObject({ failed: 0, failedAfterEnd: 1, restarts: 1, status: 'running' });
    expect(rt.metricsOf(a)).toMatchObject({ failed: 1, restarts: 1, status: 'running' });
    expect(await get(b)).toBe(0);
  });

  it('does not end an incarnation twice when all-for-one restarts an actor that is still restarting', async () => {
    const { rt, clock, timeline, counter, get } = setup();
    const parent = rt.spawn(rt.root, stateless((_: never) => undefined), { name: 'p' });
    const policy: SupervisionPolicy = { backoff: { minMs: 5, factor: 2, jitter: 0 }, strategy: 'all-for-one' };
    const a = rt.spawn(parent, counter, { name: 'a', supervision: policy });
    const b = rt.spawn(parent, counter, { name: 'b', supervision: policy });
    const slow = gate();
    dispatch(b, { type: 'slow', until: slow.until });
    await flush();
    dispatch(a, { type: 'fail' });
    await flush();
    // a starts again; b's delay is over too, but its next incarnation waits for its message in flight.
    clock.advance(5);
    await flush();
    dispatch(a, { type: 'fail' });
    await flush();
    slow.open(1);
    await flush();
    expect(rt.metricsOf(b)).toMatchObject({ status: 'restarting', restarts: 0 });
    clock.advance(10);
    await flush();

    expect(timeline).toEqual([
      'crashed /p/a',
      'onStop /p/a incarnation 0 state 0',
      'onStop /p/b incarnation 0 state 0',
      'restarted /p/a',
      'crashed /p/a',
      'onStop /p/a incarnation 1 state 0',
      'after-end /p/b succeeded',
      'restarted /p/a',
      'restarted /p/b',
    ]);
    expect(rt.metricsOf(b)).toMatchObject({ restarts: 1, incarnation: 1, status: 'running' });
    expect(await get(b)).toBe(0);
  });

  it('does not fail a parent twice when its message in flight fails after a child escalated to it', async () => {
    const { rt, clock, timeline } = setup();
    type ParentMsg = { readonly type: 'slow'; readonly until: Promise<number> } | { readonly type: 'break' };
    let child: ActorRef<'fail'> | undefined;
    const parent = rt.spawn(
      rt.root,
      stateful<number, ParentMsg>({
        initialState: (ctx) => {
          child = ctx.spawn(
            stateless((_: 'fail') => {
              throw new Error('child failed');
            }),
            { name: 'kid', supervision: { directive: 'escalate' } },
          );
          return 0;
        },
        receive: (n, message) => (message.type === 'slow' ? message.until.then((m) => n + m) : n),
        onStop: (n, ctx) => void timeline.push(`onStop ${ctx.path} incarnation ${ctx.incarnation} state ${n}`),
      }),
      { name: 'p', supervision: { ...quick, maxRestarts: 1, withinMs: 60_000 } },
    );
    const slow = gate();
    dispatch(parent, { type: 'slow', until: slow.until });
    await flush();
    dispatch(child!, 'fail');
    await flush();
    slow.fail(new Error('late'));
    await flush();
    clock.advance(5);
    await flush();

    expect(timeline).toEqual([
      'crashed /p/kid',
      'escalated /p/kid',
      'crashed /p',
      'stopped /p/kid',
      'onStop /p incarnation 0 state 0',
      'after-end /p failed',
      'restarted /p',
    ]);
    expect(rt.metricsOf(parent)).toMatchObject({ failed: 1, failedAfterEnd: 1, restarts: 1, status: 'running' });
  });

  it('does not fail or restart an actor killed again while it is restarting', async () => {
    const { rt, clock, events, timeline, counter } = setup();
    const ref = rt.spawn(rt.root, counter, { name: 'c', supervision: { ...quick, maxRestarts: 1, withinMs: 60_000 } });
    dispatch(ref, { type: 'add', n: 1 });
    await flush();
    rt.faults.kill(ref);
    rt.faults.kill(ref);
    clock.advance(5);
    await flush();

    expect(timeline).toEqual(['crashed /c', 'onStop /c incarnation 0 state 1', 'after-end /c failed', 'restarted /c']);
    expect(events.filter((e) => e.type === 'fault-injected')).toHaveLength(2);
    expect(events.find((e) => e.type === 'after-end')).toMatchObject({ error: expect.any(ActorKilledError), message: undefined, incarnation: 0 });
    expect(rt.metricsOf(ref)).toMatchObject({ failed: 1, failedAfterEnd: 1, restarts: 1, status: 'running' });
  });

  it('treats the message in flight as live again once a resume directive keeps the incarnation', async () => {
    const { rt, events, timeline, counter, get } = setup();
    const ref = rt.spawn(rt.root, counter, { name: 'c', supervision: { directive: 'resume' } });
    const first = gate();
    dispatch(ref, { type: 'slow', until: first.until });
    await flush();
    rt.faults.kill(ref);
    first.fail(new Error('in flight'));
    await flush();
    const second = gate();
    dispatch(ref, { type: 'slow', until: second.until });
    await flush();
    rt.faults.kill(ref);
    second.open(7);
    await flush();

    // Resumed, the incarnation goes on: its message in flight fails it, or sets its state, as any other would.
    expect(events.filter((e) => e.type === 'crashed')).toHaveLength(3);
    expect(events.some((e) => e.type === 'after-end')).toBe(false);
    expect(timeline).not.toContainEqual(expect.stringMatching(/^onStop/));
    expect(await get(ref)).toBe(7);
    expect(rt.metricsOf(ref)).toMatchObject({ failed: 3, failedAfterEnd: 0, restarts: 0, incarnation: 0 });
  });
});

describe('a message in flight when its actor stops', () => {
  it('lets a message in flight during a graceful stop fail the actor once, without supervision', async () => {
    const { rt, events, timeline, counter } = setup();
    const ref = rt.spawn(rt.root, counter, { name: 'c', supervision: quick });
    const slow = gate();
    dispatch(ref, { type: 'add', n: 1 });
    dispatch(ref, { type: 'slow', until: slow.until });
    await flush();
    const stopped = rt.stop(ref);
    slow.fail(new Error('while stopping'));
    await stopped;

    expect(timeline).toEqual(['crashed /c', 'onStop /c incarnation 0 state 1', 'stopped /c']);
    expect(events.find((e) => e.type === 'crashed')).toMatchObject({ error: expect.objectContaining({ message: 'while stopping' }) });
    expect(rt.metricsOf(ref)).toMatchObject({ failed: 1, failedAfterEnd: 0, restarts: 0, status: 'stopped' });
  });

  it('records a message in flight that fails after a graceful stop gave up waiting for it', async () => {
    const { rt, clock, events, timeline, counter } = setup({ stopTimeoutMs: 50 });
    const ref = rt.spawn(rt.root, counter, { name: 'c', supervision: quick });
    const slow = gate();
    dispatch(ref, { type: 'add', n: 1 });
    const inFlight = { type: 'slow', until: slow.until } as const;
    dispatch(ref, inFlight);
    await flush();
    const stopped = rt.stop(ref);
    await flush();
    clock.advance(50);
    await stopped;
    slow.fail(new Error('after the stop'));
    await flush();

    expect(timeline).toEqual(['onStop /c incarnation 0 state 1', 'stopped /c', 'after-end /c failed']);
    expect(events.find((e) => e.type === 'after-end')).toMatchObject({
      message: inFlight,
      incarnation: 0,
      error: expect.objectContaining({ message: 'after the stop' }),
    });
    expect(rt.metricsOf(ref)).toMatchObject({ failed: 0, failedAfterEnd: 1, status: 'stopped' });
  });

  it('records a message in flight that succeeds after its actor was stopped, and keeps the state onStop saw', async () => {
    const { rt, clock, timeline, counter } = setup({ stopTimeoutMs: 50 });
    const ref = rt.spawn(rt.root, counter, { name: 'c' });
    const slow = gate();
    dispatch(ref, { type: 'add', n: 1 });
    dispatch(ref, { type: 'slow', until: slow.until });
    await flush();
    const stopped = rt.stop(ref);
    await flush();
    clock.advance(50);
    await stopped;
    slow.open(100);
    await flush();

    expect(timeline).toEqual(['onStop /c incarnation 0 state 1', 'stopped /c', 'after-end /c succeeded']);
    expect(rt.metricsOf(ref)).toMatchObject({ processed: 2, failed: 0, failedAfterEnd: 0, status: 'stopped' });
  });

  it('does not fail an actor twice when it is killed during a graceful stop and its message in flight then fails', async () => {
    const { rt, timeline, counter } = setup();
    const ref = rt.spawn(rt.root, counter, { name: 'c', supervision: quick });
    const slow = gate();
    dispatch(ref, { type: 'add', n: 1 });
    dispatch(ref, { type: 'slow', until: slow.until });
    dispatch(ref, { type: 'add', n: 2 });
    await flush();
    const stopped = rt.stop(ref);
    rt.faults.kill(ref);
    slow.fail(new Error('late'));
    await stopped;
    await flush();

    // The late failure may settle before or after the stop completes; either way it is late, and counted once.
    expect([...timeline].sort()).toEqual(['after-end /c failed', 'crashed /c', 'onStop /c incarnation 0 state 1', 'stopped /c']);
    expect(timeline.indexOf('crashed /c')).toBe(0);
    expect(rt.metricsOf(ref)).toMatchObject({ failed: 1, failedAfterEnd: 1, restarts: 0, status: 'stopped' });
    expect(rt.metrics().deadLetters).toBe(1);
  });
});
