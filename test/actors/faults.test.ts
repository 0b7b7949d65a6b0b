import { afterEach, describe, expect, it } from 'vitest';
import {
  FaultPlanError,
  InjectedFaultError,
  createRuntime,
  dispatch,
  stateless,
  withFaults,
  type FaultPlan,
  type Runtime,
  type RuntimeEvent,
} from '../../src/index.js';
import { ManualClock, flush } from '../../src/testkit/index.js';

const runtimes: Runtime[] = [];
afterEach(async () => {
  await Promise.all(runtimes.splice(0).map((rt) => rt.stop()));
});

function setup(seed = 3) {
  const clock = new ManualClock();
  const rt = createRuntime({ clock, seed });
  runtimes.push(rt);
  const events: RuntimeEvent[] = [];
  rt.events.subscribe((event) => events.push(event));
  const received = new Map<string, number[]>();
  const recorder = stateless((n: number, ctx) => {
    received.set(ctx.path, [...(received.get(ctx.path) ?? []), n]);
  });
  return { rt, clock, events, received, recorder };
}

describe('fault injection', () => {
  it('crashes an actor on its nth message and lets supervision handle it', async () => {
    const { rt, clock, events, received, recorder } = setup();
    const ref = rt.spawn(rt.root, recorder, { name: 'a', supervision: { backoff: { minMs: 1, jitter: 0 } } });
    rt.faults.inject({ path: '/a', action: { kind: 'crash' }, trigger: { nth: 3 } });
    for (let i = 1; i <= 5; i++) dispatch(ref, i);
    await flush();
    clock.advance(1);
    await flush();
    expect(received.get('/a')).toEqual([1, 2, 4, 5]);
    const crash = events.find((e) => e.type === 'crashed');
    expect(crash?.type === 'crashed' && crash.error).toBeInstanceOf(InjectedFaultError);
    expect(crash).toMatchObject({ message: 3 });
  });

  it('targets actors by path pattern', async () => {
    const { rt, received, recorder } = setup();
    const swarm = rt.spawn(rt.root, stateless((_: never) => undefined), { name: 'swarm' });
    const agents = [0, 1, 2].map((i) => rt.spawn(swarm, recorder, { name: `agent-${i}` }));
    const other = rt.spawn(rt.root, recorder, { name: 'other' });
    rt.faults.inject({ path: '/swarm/agent-*', action: { kind: 'drop' }, trigger: { when: (m) => m === 2 } });
    for (const ref of [...agents, other]) [1, 2, 3].forEach((n) => dispatch(ref, n));
    await flush();
    for (let i = 0; i < 3; i++) expect(received.get(`/swarm/agent-${i}`)).toEqual([1, 3]);
    expect(received.get('/other')).toEqual([1, 2, 3]);
  });

  it('publishes every dropped message on the event stream, so none is lost silently', async () => {
    const { rt, events, recorder } = setup();
    const ref = rt.spawn(rt.root, recorder, { name: 'a' });
    rt.faults.inject({ path: '/**', action: { kind: 'drop' }, times: 2 });
    [1, 2, 3].forEach((n) => dispatch(ref, n));
    await flush();
    const drops = events.filter((e) => e.type === 'fault-injected');
    expect(drops).toEqual([
      expect.objectContaining({ fault: 'drop', path: '/a', message: 1 }),
      expect.objectContaining({ fault: 'drop', path: '/a', message: 2 }),
    ]);
    expect(rt.metrics().faultsInjected).toBe(2);
  });

  it('delays messages on the runtime clock', async () => {
    const { rt, clock, received, recorder } = setup();
    const ref = rt.spawn(rt.root, recorder, { name: 'a' });
    rt.faults.inject({ path: '/a', action: { kind: 'delay', ms: 100 }, trigger: { nth: 1 } });
    dispatch(ref, 1);
    dispatch(ref, 2);
    await flush();
    expect(received.get('/a')).toBeUndefined();
    clock.advance(100);
    await flush();
    expect(received.get('/a')).toEqual([1, 2]);
  });

  it('kills an actor from outside; its supervisor restarts it', async () => {
    const { rt, clock, events, recorder } = setup();
    const ref = rt.spawn(rt.root, recorder, { name: 'a', supervision: { backoff: { minMs: 5, jitter: 0 } } });
    expect(rt.faults.kill(ref)).toBe(true);
    clock.advance(5);
    expect(events.map((e) => e.type)).toEqual(['spawned', 'fault-injected', 'crashed', 'restarted']);
    await rt.stop(ref);
    expect(rt.faults.kill(ref)).toBe(false);
  });

  it('crashes with a seeded probability: the same seed crashes the same messages', async () => {
    const crashedMessages = async (seed: number) => {
      const { rt, events, recorder } = setup();
      const ref = rt.spawn(rt.root, recorder, { name: 'a', supervision: { directive: 'resume' } });
      rt.faults.run({ seed, steps: [{ at: { afterMs: 0 }, inject: { path: '/a', action: { kind: 'crash' }, trigger: { probability: 0.3 } } }] });
      (rt.clock as ManualClock).advance(0);
      for (let i = 0; i < 200; i++) dispatch(ref, i);
      for (let turn = 0; turn < 1_000 && rt.metricsOf(ref)?.mailboxDepth !== 0; turn++) await flush(1);
      return events.flatMap((e) => (e.type === 'crashed' ? [e.message] : []));
    };
    const first = await crashedMessages(11);
    expect(first.length).toBeGreaterThan(30);
    expect(first.length).toBeLessThan(90);
    expect(await crashedMessages(11)).toEqual(first);
    expect(await crashedMessages(12)).not.toEqual(first);
  });

  it('wraps a single behaviour to crash on a predicate, keeping its count across restarts', async () => {
    const { rt, clock, received } = setup();
    const base = stateless((n: number, ctx) => void received.set(ctx.path, [...(received.get(ctx.path) ?? []), n]));
    const ref = rt.spawn(rt.root, withFaults(base, { action: { kind: 'crash' }, trigger: { nth: 2 } }), {
      name: 'w',
      supervision: { backoff: { minMs: 1, jitter: 0 } },
    });
    [1, 2, 3, 4].forEach((n) => dispatch(ref, n));
    await flush();
    clock.advance(1);
    await flush();
    expect(received.get('/w')).toEqual([1, 3, 4]);
    expect(rt.metricsOf(ref)).toMatchObject({ failed: 1, restarts: 1 });
  });

  it('wraps a single behaviour to delay on the runtime clock and to drop on a predicate', async () => {
    const { rt, clock, received } = setup();
    const base = stateless((n: number, ctx) => void received.set(ctx.path, [...(received.get(ctx.path) ?? []), n]));
    const slow = rt.spawn(rt.root, withFaults(base, { action: { kind: 'delay', ms: 50 }, trigger: { nth: 1 } }), { name: 'slow' });
    const lossy = rt.spawn(rt.root, withFaults(base, { action: { kind: 'drop' }, trigger: { when: (m) => m === 2 } }), { name: 'lossy' });
    [1, 2, 3].forEach((n) => {
      dispatch(slow, n);
      dispatch(lossy, n);
    });
    await flush();
    expect(received.get('/slow')).toBeUndefined();
    expect(received.get('/lossy')).toEqual([1, 3]);
    clock.advance(50);
    await flush();
    expect(received.get('/slow')).toEqual([1, 2, 3]);
  });

  it('replays a fault plan from its seed: the same event sequence twice', async () => {
    const plan: FaultPlan = {
      seed: 2024,
      steps: [
        { at: { afterMessages: 50, path: '/swarm/*' }, kill: '/swarm/*', pick: 'one' },
        { at: { afterMs: 30 }, inject: { path: '/swarm/*', action: { kind: 'crash' }, trigger: { probability: 0.05 } } },
        { at: { afterMs: 60 }, kill: '/swarm/*', pick: 'one' },
      ],
    };
    const run = async () => {
      const { rt, clock, events, recorder } = setup(5);
      const swarm = rt.spawn(rt.root, stateless((_: never) => undefined), { name: 'swarm' });
      const agents = Array.from({ length: 5 }, (_, i) =>
        rt.spawn(swarm, recorder, { name: `agent-${i}`, supervision: { backoff: { minMs: 2, maxMs: 20 } } }),
      );
      const execution = rt.faults.run(plan);
      for (let tick = 0; tick < 100; tick++) {
        agents.forEach((ref, i) => dispatch(ref, tick * 10 + i));
        await flush(2);
        clock.advance(1);
      }
      await execution.done;
      return events.map((e) => JSON.stringify({ ...e, error: 'error' in e ? e.error.message : undefined }));
    };
    const first = await run();
    expect(first.some((e) => e.includes('"fault":"kill"'))).toBe(true);
    expect(first.some((e) => e.includes('"type":"restarted"'))).toBe(true);
    expect(await run()).toEqual(first);
  });

  it('refuses a malformed plan with a FaultPlanError naming the problem', () => {
    const { rt } = setup();
    expect(() => rt.faults.run({ seed: 1, steps: [{ at: { afterMs: -1 }, kill: '/a' }] })).toThrow(FaultPlanError);
    expect(() => rt.faults.run({ seed: 1, steps: [{ at: { afterMs: 1 }, kill: 'a' }] })).toThrow(/must start with/);
    expect(() =>
      rt.faults.inject({ path: '/a', action: { kind: 'crash' }, trigger: { probability: 2 } }),
    ).toThrow(/probability/);
    expect(() => rt.faults.inject({ path: '/a', action: { kind: 'explode' } as never })).toThrow(/crash, delay or drop/);
  });

  it('refuses a plan or fault seed another seed would replay, with a FaultPlanError naming it', () => {
    const { rt } = setup();
    for (const seed of [2 ** 32, -1, 1.5]) {
      expect(() => rt.faults.run({ seed, steps: [{ at: { afterMs: 1 }, kill: '/a' }] })).toThrow(FaultPlanError);
      expect(() => withFaults(stateless(() => undefined), { seed, action: { kind: 'crash' } })).toThrow(/fault seed must be an integer from 0/);
    }
  });
});
