import { afterEach, describe, expect, it } from 'vitest';
import {
  EscalationError,
  RestartBudgetExceededError,
  SupervisionConfigError,
  ask,
  createRuntime,
  decideByErrorClass,
  dispatch,
  stateful,
  stateless,
  type ActorRef,
  type Behaviour,
  type Runtime,
  type RuntimeEvent,
  type SupervisionPolicy,
} from '../../src/index.js';
import { ManualClock, flush } from '../../src/testkit/index.js';

type Msg =
  | { readonly type: 'add'; readonly n: number }
  | { readonly type: 'fail'; readonly error?: Error }
  | { readonly type: 'get'; readonly replyTo: ActorRef<number> };

/** A counter that throws on `fail`: its state shows whether a restart reset it. */
const failingCounter = (initial = 0): Behaviour<Msg> =>
  stateful<number, Msg>({
    initialState: initial,
    receive(total, message) {
      if (message.type === 'add') return total + message.n;
      if (message.type === 'fail') throw message.error ?? new Error('asked to fail');
      dispatch(message.replyTo, total);
      return total;
    },
  });

const runtimes: Runtime[] = [];
function setup(seed = 1) {
  const clock = new ManualClock();
  const rt = createRuntime({ clock, seed });
  runtimes.push(rt);
  const events: RuntimeEvent[] = [];
  rt.events.subscribe((event) => events.push(event));
  return { rt, clock, events };
}
afterEach(async () => {
  await Promise.all(runtimes.splice(0).map((rt) => rt.stop()));
});

const get = async (ref: ActorRef<Msg>, clock?: ManualClock) => {
  const reply = ask(ref, (replyTo) => ({ type: 'get', replyTo }), 5_000);
  await flush();
  clock?.advance(0);
  return reply;
};

describe('supervision', () => {
  it('restarts a stateful actor with its initial state and keeps processing its mailbox', async () => {
    const { rt, clock, events } = setup();
    const ref = rt.spawn(rt.root, failingCounter(100), { name: 'c' });
    dispatch(ref, { type: 'add', n: 5 });
    dispatch(ref, { type: 'fail' });
    dispatch(ref, { type: 'add', n: 1 });
    dispatch(ref, { type: 'add', n: 2 });
    await flush();
    clock.advance(10_000);
    await flush();
    expect(await get(ref)).toBe(103);
    const crashed = events.find((e) => e.type === 'crashed');
    expect(crashed).toMatchObject({ path: '/c', message: { type: 'fail' }, incarnation: 0 });
    expect(events.filter((e) => e.type === 'restarted')).toHaveLength(1);
  });

  it('records the failing message on the crashed event and in the metrics (default policy)', async () => {
    const { rt, clock, events } = setup();
    const ref = rt.spawn(rt.root, failingCounter(), { name: 'c' });
    const poison = { type: 'fail', error: new TypeError('poison') } as const;
    dispatch(ref, poison);
    await flush();
    clock.advance(1_000);
    await flush();
    expect(events.find((e) => e.type === 'crashed')).toMatchObject({ message: poison, error: poison.error });
    expect(rt.metricsOf(ref)).toMatchObject({ failed: 1, restarts: 1 });
    expect(rt.metrics()).toMatchObject({ failed: 1, restarts: 1 });
  });

  it('grows backoff delays by the factor and caps them at maxMs', async () => {
    const { rt, clock, events } = setup();
    const policy: SupervisionPolicy = { backoff: { minMs: 100, maxMs: 1_000, factor: 2, jitter: 0 }, maxRestarts: 20, withinMs: 600_000 };
    const ref = rt.spawn(rt.root, failingCounter(), { name: 'c', supervision: policy });
    for (let i = 0; i < 6; i++) {
      dispatch(ref, { type: 'fail' });
      await flush();
      clock.advance(1_000);
      await flush();
    }
    const restarts = events.filter((e): e is Extract<RuntimeEvent, { type: 'restarted' }> => e.type === 'restarted');
    expect(restarts.map((e) => e.attempt)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(restarts.map((e) => e.delayMs)).toEqual([100, 200, 400, 800, 1_000, 1_000]);
  });

  it('waits the backoff delay before the new incarnation takes messages', async () => {
    const { rt, clock } = setup();
    const ref = rt.spawn(rt.root, failingCounter(), { name: 'c', supervision: { backoff: { minMs: 500, jitter: 0 } } });
    dispatch(ref, { type: 'fail' });
    dispatch(ref, { type: 'add', n: 1 });
    await flush();
    clock.advance(499);
    await flush();
    expect(rt.metricsOf(ref)).toMatchObject({ status: 'restarting', mailboxDepth: 1 });
    clock.advance(1);
    await flush();
    expect(rt.metricsOf(ref)).toMatchObject({ status: 'running', mailboxDepth: 0, processed: 1 });
  });

  it('keeps jittered delays within [base, base × (1 + jitter)] and never above maxMs', async () => {
    const { rt, clock, events } = setup(42);
    const ref = rt.spawn(rt.root, failingCounter(), {
      name: 'c',
      supervision: { backoff: { minMs: 100, maxMs: 300, factor: 2, jitter: 0.5 }, maxRestarts: 50, withinMs: 10_000_000 },
    });
    for (let i = 0; i < 5; i++) {
      dispatch(ref, { type: 'fail' });
      await flush();
      clock.advance(1_000);
      await flush();
    }
    const delays = events.flatMap((e) => (e.type === 'restarted' ? [e.delayMs] : []));
    expect(delays[0]).toBeGreaterThanOrEqual(100);
    expect(delays[0]).toBeLessThanOrEqual(150);
    expect(delays[1]).toBeGreaterThanOrEqual(200);
    for (const delay of delays) expect(delay).toBeLessThanOrEqual(300);
  });

  it('gives each actor the same jittered delays for the same seed, whichever order actors crash in', async () => {
    const supervision: SupervisionPolicy = { backoff: { minMs: 1_000, maxMs: 10_000, factor: 1, jitter: 1 }, maxRestarts: 50, withinMs: 10_000_000 };
    /** Crashes `a` and `b` three times each, in `order` every round; the delays each actor was given. */
    const run = async (order: readonly ('a' | 'b')[]) => {
      const { rt, clock, events } = setup(7);
      const refs = { a: rt.spawn(rt.root, failingCounter(), { name: 'a', supervision }), b: rt.spawn(rt.root, failingCounter(), { name: 'b', supervision }) };
      for (let round = 0; round < 3; round++) {
        for (const name of order) {
          dispatch(refs[name], { type: 'fail' });
          await flush();
        }
        clock.advance(10_000);
        await flush();
      }
      const delaysOf = (path: string) => events.flatMap((e) => (e.type === 'restarted' && e.path === path ? [e.delayMs] : []));
      return { a: delaysOf('/a'), b: delaysOf('/b') };
    };

    const aFirst = await run(['a', 'b']);
    const bFirst = await run(['b', 'a']);
    expect(aFirst.a).toHaveLength(3);
    expect(bFirst).toEqual(aFirst);
    // Successive restarts of one actor draw successive numbers, not the same one again.
    expect(new Set(aFirst.a).size).toBe(3);
    expect(aFirst.b).not.toEqual(aFirst.a);
  });

  it('escalates after the restart budget is spent, and the parent policy decides', async () => {
    const { rt, clock, events } = setup();
    let parentStarts = 0;
    const parent = rt.spawn(
      rt.root,
      stateful<ActorRef<Msg>, never>({
        initialState: (ctx) => {
          parentStarts++;
          return ctx.spawn(failingCounter(), { name: 'child', supervision: { maxRestarts: 2, withinMs: 60_000, backoff: { minMs: 1, jitter: 0 } } });
        },
        receive: (child) => child,
      }),
      { name: 'parent', supervision: { directive: 'restart', backoff: { minMs: 5, jitter: 0 } } },
    );
    const child = () => rt.lookup('/parent/child') as ActorRef<Msg>;
    for (let i = 0; i < 3; i++) {
      dispatch(child(), { type: 'fail' });
      await flush();
      clock.advance(10);
      await flush();
    }
    const escalated = events.find((e) => e.type === 'escalated');
    expect(escalated).toMatchObject({ path: '/parent/child', to: '/parent' });
    const parentCrash = events.find((e) => e.type === 'crashed' && e.path === '/parent');
    expect(parentCrash && parentCrash.type === 'crashed' && parentCrash.error).toBeInstanceOf(RestartBudgetExceededError);
    expect(events).toContainEqual(expect.objectContaining({ type: 'restarted', path: '/parent' }));
    expect(parentStarts).toBe(2);
    expect(child()).toBeDefined();
    expect(rt.metricsOf(parent)).toMatchObject({ status: 'running', restarts: 1 });
  });

  it('forgets restarts that fall out of the budget window', async () => {
    const { rt, clock, events } = setup();
    const ref = rt.spawn(rt.root, failingCounter(), {
      name: 'c',
      supervision: { maxRestarts: 2, withinMs: 1_000, backoff: { minMs: 1, jitter: 0 } },
    });
    for (let i = 0; i < 5; i++) {
      dispatch(ref, { type: 'fail' });
      await flush();
      clock.advance(600);
      await flush();
    }
    expect(events.some((e) => e.type === 'escalated')).toBe(false);
    expect(rt.metricsOf(ref)).toMatchObject({ restarts: 5, status: 'running' });
  });

  it('stops a top-level actor whose failure escalates to the guardian', async () => {
    const { rt, events } = setup();
    const ref = rt.spawn(rt.root, failingCounter(), { name: 'top', supervision: { directive: 'escalate' } });
    dispatch(ref, { type: 'fail' });
    await flush();
    expect(events).toContainEqual(expect.objectContaining({ type: 'escalated', path: '/top', to: '/' }));
    expect(events).toContainEqual(expect.objectContaining({ type: 'stopped', path: '/top', reason: 'escalation' }));
  });

  it('escalate makes the parent fail with an EscalationError carrying the cause', async () => {
    const { rt, events } = setup();
    const parent = rt.spawn(rt.root, stateless((_: never) => undefined), { name: 'p', supervision: { directive: 'stop' } });
    const child = rt.spawn(parent, failingCounter(), { name: 'c', supervision: { directive: 'escalate' } });
    dispatch(child, { type: 'fail', error: new RangeError('deep') });
    await flush();
    const crash = events.find((e) => e.type === 'crashed' && e.path === '/p');
    expect(crash?.type === 'crashed' && crash.error).toBeInstanceOf(EscalationError);
    expect(crash?.type === 'crashed' && (crash.error.cause as Error).message).toBe('deep');
    expect(rt.lookup('/p')).toBeUndefined();
    expect(rt.lookup('/p/c')).toBeUndefined();
  });

  it('all-for-one restarts the siblings of a failing child', async () => {
    const { rt, clock, events } = setup();
    const parent = rt.spawn(rt.root, stateless((_: never) => undefined), { name: 'p' });
    const policy: SupervisionPolicy = { strategy: 'all-for-one', backoff: { minMs: 10, jitter: 0 } };
    const a = rt.spawn(parent, failingCounter(), { name: 'a', supervision: policy });
    const b = rt.spawn(parent, failingCounter(), { name: 'b', supervision: policy });
    dispatch(a, { type: 'add', n: 1 });
    dispatch(b, { type: 'add', n: 2 });
    await flush();
    dispatch(a, { type: 'fail' });
    await flush();
    clock.advance(10);
    await flush();
    const restarted = events.filter((e) => e.type === 'restarted');
    expect(restarted).toEqual([
      expect.objectContaining({ path: '/p/a', cause: 'failure', attempt: 1 }),
      expect.objectContaining({ path: '/p/b', cause: 'sibling-failure' }),
    ]);
    expect(await get(a, clock)).toBe(0);
    expect(await get(b, clock)).toBe(0);
  });

  it('one-for-one leaves the siblings alone', async () => {
    const { rt, clock } = setup();
    const parent = rt.spawn(rt.root, stateless((_: never) => undefined), { name: 'p' });
    const a = rt.spawn(parent, failingCounter(), { name: 'a' });
    const b = rt.spawn(parent, failingCounter(), { name: 'b' });
    dispatch(b, { type: 'add', n: 2 });
    dispatch(a, { type: 'fail' });
    await flush();
    clock.advance(1_000);
    expect(await get(b, clock)).toBe(2);
  });

  it('resume keeps the state and goes on with the next message', async () => {
    const { rt } = setup();
    const ref = rt.spawn(rt.root, failingCounter(), { name: 'c', supervision: { directive: 'resume' } });
    dispatch(ref, { type: 'add', n: 3 });
    dispatch(ref, { type: 'fail' });
    dispatch(ref, { type: 'add', n: 4 });
    expect(await get(ref)).toBe(7);
    expect(rt.metricsOf(ref)).toMatchObject({ restarts: 0, failed: 1, incarnation: 0 });
  });

  it('stop sends what is left in the mailbox to dead letters', async () => {
    const { rt, events } = setup();
    const ref = rt.spawn(rt.root, failingCounter(), { name: 'c', supervision: { directive: 'stop' } });
    dispatch(ref, { type: 'fail' });
    dispatch(ref, { type: 'add', n: 1 });
    dispatch(ref, { type: 'add', n: 2 });
    await flush();
    expect(events).toContainEqual(expect.objectContaining({ type: 'stopped', path: '/c', reason: 'failure' }));
    expect(events.filter((e) => e.type === 'dead-letter')).toHaveLength(2);
    expect(rt.metrics().deadLetters).toBe(2);
  });

  it('picks the directive by error class with a decision function', async () => {
    class Transient extends Error {}
    class Fatal extends Error {}
    const { rt, events } = setup();
    const ref = rt.spawn(rt.root, failingCounter(), {
      name: 'c',
      supervision: { decide: decideByErrorClass([[Transient, 'resume'], [Fatal, 'stop']]) },
    });
    dispatch(ref, { type: 'add', n: 1 });
    dispatch(ref, { type: 'fail', error: new Transient('blip') });
    expect(await get(ref)).toBe(1);
    dispatch(ref, { type: 'fail', error: new Fatal('dead') });
    await flush();
    expect(events).toContainEqual(expect.objectContaining({ type: 'stopped', path: '/c', reason: 'failure' }));
  });

  it('treats a throwing initial state as a failure of the actor', async () => {
    const { rt, clock, events } = setup();
    let attempts = 0;
    rt.spawn(
      rt.root,
      stateful<number, never>({
        initialState: () => {
          if (++attempts < 3) throw new Error('not yet');
          return 0;
        },
        receive: (s) => s,
      }),
      { name: 'flaky', supervision: { backoff: { minMs: 1, jitter: 0 } } },
    );
    clock.advance(10);
    clock.advance(10);
    expect(attempts).toBe(3);
    expect(events.filter((e) => e.type === 'crashed')).toHaveLength(2);
    expect(rt.metricsOf(rt.lookup('/flaky')!)).toMatchObject({ status: 'running', restarts: 2 });
  });

  it('stops children when their parent restarts', async () => {
    const { rt, clock, events } = setup();
    const parent = rt.spawn(rt.root, failingCounter(), { name: 'p', supervision: { backoff: { minMs: 1, jitter: 0 } } });
    rt.spawn(parent, failingCounter(), { name: 'kid' });
    dispatch(parent, { type: 'fail' });
    await flush();
    clock.advance(5);
    expect(events).toContainEqual(expect.objectContaining({ type: 'stopped', path: '/p/kid', reason: 'parent-restarted' }));
  });

  it('refuses an out-of-range policy with a SupervisionConfigError naming the option', () => {
    const { rt } = setup();
    const spawnWith = (supervision: SupervisionPolicy) => () => rt.spawn(rt.root, failingCounter(), { supervision });
    expect(spawnWith({ backoff: { factor: 0.5 } })).toThrow(SupervisionConfigError);
    expect(spawnWith({ backoff: { factor: 0.5 } })).toThrow(/backoff\.factor/);
    expect(spawnWith({ maxRestarts: -1 })).toThrow(/maxRestarts/);
    expect(spawnWith({ directive: 'retry' as never })).toThrow(/directive/);
    expect(spawnWith({ backoff: { minMs: 100, maxMs: 10 } })).toThrow(/backoff\.maxMs/);
  });

  it('keeps every message to non-crashed actors processed when 10% of 1,000 actors crash at random', async () => {
    const rt = createRuntime({ seed: 7 });
    runtimes.push(rt);
    const supervisor = rt.spawn(rt.root, stateless((_: never) => undefined), { name: 'sup' });
    const processed = new Map<string, number>();
    const worker = stateless((message: 'work' | 'crash', ctx) => {
      if (message === 'crash') throw new Error('random crash');
      processed.set(ctx.name, (processed.get(ctx.name) ?? 0) + 1);
    });
    const workers = Array.from({ length: 1_000 }, (_, i) =>
      rt.spawn(supervisor, worker, { name: `w${i}`, supervision: { backoff: { minMs: 1, maxMs: 5 } } }),
    );
    const random = (await import('../../src/random.js')).createRandom(99);
    const crashing = new Set<number>();
    while (crashing.size < 100) crashing.add(random.int(0, 999));
    const perWorker = 20;
    for (let round = 0; round < perWorker; round++) {
      workers.forEach((ref, i) => {
        if (crashing.has(i) && round === 10) dispatch(ref, 'crash');
        dispatch(ref, 'work');
      });
    }
    for (let turn = 0; turn < 2_000 && [...processed.values()].reduce((a, b) => a + b, 0) < 1_000 * perWorker; turn++) {
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    const total = [...processed.values()].reduce((a, b) => a + b, 0);
    expect(total).toBe(1_000 * perWorker);
    expect(rt.metrics()).toMatchObject({ failed: 100, restarts: 100, deadLetters: 0 });
    workers.forEach((_, i) => expect(processed.get(`w${i}`)).toBe(perWorker));
  });
});
