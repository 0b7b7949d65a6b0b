import { afterEach, describe, expect, it } from 'vitest';
import { createRuntime, dispatch, stateless, type Runtime } from '../../src/index.js';
import { AwaitEventTimeoutError, ManualClock, ProbeExpectationError, awaitEvent, clusteredVectors, createTestProbe } from '../../src/testkit/index.js';
import { SeedError } from '../../src/random.js';

const runtimes: Runtime[] = [];
afterEach(async () => {
  await Promise.all(runtimes.splice(0).map((rt) => rt.stop()));
});

describe('manual clock', () => {
  it('fires timers in time order, including timers started by timers, only when advanced', () => {
    const clock = new ManualClock();
    const fired: string[] = [];
    clock.setTimeout(() => fired.push('b@20'), 20);
    clock.setTimeout(() => {
      fired.push('a@10');
      clock.setTimeout(() => fired.push('c@15'), 5);
    }, 10);
    const cancelled = clock.setTimeout(() => fired.push('never'), 12);
    cancelled.cancel();
    expect(clock.nextDueAt).toBe(10);
    clock.advance(9);
    expect(fired).toEqual([]);
    clock.advance(11);
    expect(fired).toEqual(['a@10', 'c@15', 'b@20']);
    expect(clock.now()).toBe(20);
    expect(clock.pending).toBe(0);
    expect(clock.nextDueAt).toBeUndefined();
  });
});

describe('test probe', () => {
  it('fails expectMessage with a typed error on a wrong message or a timeout', async () => {
    const rt = createRuntime();
    runtimes.push(rt);
    const probe = createTestProbe<string>(rt);
    dispatch(probe.ref, 'hello');
    await expect(probe.expectMessage('bye')).rejects.toBeInstanceOf(ProbeExpectationError);
    await expect(probe.expectMessage(undefined, 20)).rejects.toThrow(/timed out/);
  });

  it('fails expectNoMessage when a message arrives', async () => {
    const rt = createRuntime();
    runtimes.push(rt);
    const probe = createTestProbe<string>(rt);
    setTimeout(() => dispatch(probe.ref, 'late'), 5);
    await expect(probe.expectNoMessage(50)).rejects.toThrow(/expected no message/);
  });
});

describe('awaitEvent', () => {
  it('resolves with the first matching event and rejects with a typed error after the timeout', async () => {
    const rt = createRuntime();
    runtimes.push(rt);
    const spawned = awaitEvent(rt, (e) => e.type === 'spawned' && e.path === '/x');
    rt.spawn(rt.root, stateless((_: never) => undefined), { name: 'x' });
    await expect(spawned).resolves.toMatchObject({ type: 'spawned', path: '/x' });
    await expect(awaitEvent(rt, (e) => e.type === 'escalated', 20)).rejects.toBeInstanceOf(AwaitEventTimeoutError);
  });
});

describe('clustered vectors', () => {
  it('refuses a seed another seed would replay, as createRandom does', () => {
    const options = { count: 4, dimensions: 2, clusters: 2, spread: 0.1, seed: 1, centresSeed: 1 };
    expect(clusteredVectors(options)).toEqual(clusteredVectors(options));
    expect(() => clusteredVectors({ ...options, seed: 2 ** 32 + 1 })).toThrow(SeedError);
    expect(() => clusteredVectors({ ...options, centresSeed: -1 })).toThrow(SeedError);
  });
});
