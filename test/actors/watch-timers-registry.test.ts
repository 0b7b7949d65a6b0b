import { afterEach, describe, expect, it } from 'vitest';
import {
  RouterConfigError,
  createRuntime,
  dispatch,
  pool,
  serviceKey,
  stateful,
  stateless,
  type ActorRef,
  type Runtime,
  type Terminated,
} from '../../src/index.js';
import { ManualClock, createTestProbe, flush } from '../../src/testkit/index.js';

const runtimes: Runtime[] = [];
afterEach(async () => {
  await Promise.all(runtimes.splice(0).map((rt) => rt.stop()));
});
function runtime(clock?: ManualClock): Runtime {
  const rt = createRuntime({ clock });
  runtimes.push(rt);
  return rt;
}
const idle = stateless((_: string) => undefined);

describe('death-watch', () => {
  it('delivers a typed Terminated to a watching actor when the watched actor stops', async () => {
    const rt = runtime();
    const probe = createTestProbe<string>(rt);
    const target = rt.spawn(rt.root, idle, { name: 'target' });
    rt.spawn(
      rt.root,
      stateless<Terminated | 'start'>({
        setup: (ctx) => ctx.watch(target),
        receive: (message) => {
          if (message !== 'start' && message.type === 'terminated') dispatch(probe.ref, `saw ${message.path} stop`);
        },
      }),
      { name: 'watcher' },
    );
    await rt.stop(target);
    await probe.expectMessage('saw /target stop');
  });

  it('sends the watchWith message instead of Terminated', async () => {
    const rt = runtime();
    const probe = createTestProbe<{ readonly lost: string }>(rt);
    const target = rt.spawn(rt.root, idle, { name: 'target' });
    rt.spawn(
      rt.root,
      stateless<{ readonly lost: string }>({
        setup: (ctx) => ctx.watchWith(target, { lost: 'target' }),
        receive: (message) => dispatch(probe.ref, message),
      }),
      { name: 'watcher' },
    );
    rt.faults.inject({ path: '/target', action: { kind: 'crash' } });
    await rt.stop(target);
    await probe.expectMessage({ lost: 'target' });
  });

  it('does not deliver Terminated for a restart, only for a final stop', async () => {
    const clock = new ManualClock();
    const rt = runtime(clock);
    const probe = createTestProbe<string>(rt);
    const target = rt.spawn(rt.root, idle, { name: 'target', supervision: { backoff: { minMs: 1, jitter: 0 } } });
    rt.watch(probe.ref, target);
    rt.faults.kill(target);
    clock.advance(1);
    await probe.expectNoMessage(30);
    await rt.stop(target);
    await probe.expectTerminated(target);
  });

  it('delivers Terminated at once when watching an actor that already stopped', async () => {
    const rt = runtime();
    const probe = createTestProbe<string>(rt);
    const target = rt.spawn(rt.root, idle, { name: 'gone' });
    await rt.stop(target);
    await probe.expectTerminated(target);
  });

  it('stops delivering after unwatch', async () => {
    const rt = runtime();
    const probe = createTestProbe<string>(rt);
    const target = rt.spawn(rt.root, idle, { name: 'target' });
    rt.spawn(
      rt.root,
      stateless<Terminated | 'unwatch'>({
        setup: (ctx) => ctx.watch(target),
        receive: (message, ctx) => {
          if (message === 'unwatch') {
            ctx.unwatch(target);
            dispatch(probe.ref, 'unwatched');
          } else dispatch(probe.ref, 'terminated');
        },
      }),
      { name: 'watcher' },
    );
    dispatch(rt.lookup('/watcher') as ActorRef<'unwatch'>, 'unwatch');
    await probe.expectMessage('unwatched');
    await rt.stop(target);
    await probe.expectNoMessage(30);
  });
});

describe('timers', () => {
  type TickMsg = 'tick' | 'once' | 'cancel';
  const ticker = (log: string[]) =>
    stateful<number, TickMsg>({
      initialState: (ctx) => {
        ctx.timers.startPeriodic('tick', 'tick', 100);
        ctx.timers.startSingle('once', 'once', 250);
        return 0;
      },
      receive(count, message, ctx) {
        log.push(`${message}@${ctx.incarnation}`);
        if (message === 'cancel') ctx.timers.cancel('tick');
        if (message === 'once') throw new Error('restart me');
        return count + 1;
      },
    });

  it('fires single and periodic timers on the runtime clock', async () => {
    const clock = new ManualClock();
    const rt = runtime(clock);
    const log: string[] = [];
    const ref = rt.spawn(rt.root, ticker(log), { name: 't', supervision: { directive: 'resume' } });
    for (let i = 0; i < 3; i++) {
      clock.advance(100);
      await flush();
    }
    expect(log).toEqual(['tick@0', 'tick@0', 'once@0', 'tick@0']);
    dispatch(ref, 'cancel');
    await flush();
    clock.advance(1_000);
    await flush();
    expect(log.filter((l) => l === 'tick@0')).toHaveLength(3);
  });

  it('cancels every timer of an incarnation when it restarts, and the new one starts its own', async () => {
    const clock = new ManualClock();
    const rt = runtime(clock);
    const log: string[] = [];
    rt.spawn(rt.root, ticker(log), { name: 't', supervision: { backoff: { minMs: 1_000, jitter: 0 } } });
    clock.advance(250);
    await flush();
    expect(log).toEqual(['tick@0', 'tick@0', 'once@0']);
    clock.advance(999);
    await flush();
    expect(log).toHaveLength(3);
    clock.advance(1 + 100);
    await flush();
    expect(log.at(-1)).toBe('tick@1');
  });

  it('leaves no timer running after the actor stops', async () => {
    const clock = new ManualClock();
    const rt = runtime(clock);
    const ref = rt.spawn(rt.root, ticker([]), { name: 't' });
    expect(clock.pending).toBe(2);
    await rt.stop(ref);
    expect(clock.pending).toBe(0);
  });
});

describe('registry', () => {
  const workers = serviceKey<string>('workers');

  it('registers, looks up and notifies subscribers, and forgets actors that stop', async () => {
    const rt = runtime();
    const seen: number[] = [];
    rt.registry.subscribe(workers, (refs) => seen.push(refs.length));
    const a = rt.spawn(rt.root, idle, { name: 'a' });
    const b = rt.spawn(rt.root, idle, { name: 'b' });
    rt.registry.register(workers, a);
    rt.registry.register(workers, b);
    rt.registry.register(workers, b);
    expect(rt.registry.lookup(workers)).toEqual([a, b]);
    await rt.stop(a);
    expect(rt.registry.lookup(workers)).toEqual([b]);
    rt.registry.deregister(workers, b);
    expect(rt.registry.lookup(workers)).toEqual([]);
    expect(seen).toEqual([0, 1, 2, 1, 0]);
  });
});

describe('routers', () => {
  const recorder = (log: string[]) => stateless((message: string, ctx) => void log.push(`${ctx.name}:${message}`));

  it('round-robin spreads messages evenly over the routees', async () => {
    const rt = runtime();
    const log: string[] = [];
    const router = rt.spawn(rt.root, pool({ routing: 'round-robin', size: 3, routee: recorder(log) }), { name: 'rr' });
    for (let i = 0; i < 9; i++) dispatch(router, `m${i}`);
    await flush();
    for (let r = 0; r < 3; r++) expect(log.filter((l) => l.startsWith(`routee-${r}:`))).toHaveLength(3);
  });

  it('broadcast delivers every message to every routee', async () => {
    const rt = runtime();
    const log: string[] = [];
    const router = rt.spawn(rt.root, pool({ routing: 'broadcast', size: 4, routee: recorder(log) }), { name: 'bc' });
    dispatch(router, 'hello');
    await flush();
    expect(log.sort()).toEqual(['routee-0:hello', 'routee-1:hello', 'routee-2:hello', 'routee-3:hello']);
  });

  it('consistent-hash sends equal keys to the same routee and moves only the dead routee keys', async () => {
    const rt = runtime();
    const log: string[] = [];
    const router = rt.spawn(
      rt.root,
      pool({ routing: 'consistent-hash', size: 4, routee: recorder(log), hashKey: (m: string) => m.split('#')[0] as string }),
      { name: 'ch' },
    );
    const keys = Array.from({ length: 200 }, (_, i) => `key${i}`);
    for (const key of keys) dispatch(router, `${key}#1`);
    for (const key of keys) dispatch(router, `${key}#2`);
    await flush();
    const owner = (key: string, n: number) => log.find((l) => l.endsWith(`:${key}#${n}`))?.split(':')[0];
    for (const key of keys) expect(owner(key, 2)).toBe(owner(key, 1));
    const used = new Set(keys.map((k) => owner(k, 1)));
    expect(used.size).toBe(4);

    await rt.stop(rt.lookup('/ch/routee-0')!);
    await flush();
    for (const key of keys) dispatch(router, `${key}#3`);
    await flush();
    for (const key of keys) {
      if (owner(key, 1) !== 'routee-0') expect(owner(key, 3)).toBe(owner(key, 1));
      else expect(owner(key, 3)).not.toBe('routee-0');
    }
  });

  it('supervises its routees: a crashed routee restarts and keeps receiving', async () => {
    const clock = new ManualClock();
    const rt = runtime(clock);
    const log: string[] = [];
    const router = rt.spawn(
      rt.root,
      pool({ routing: 'round-robin', size: 2, routee: recorder(log), supervision: { backoff: { minMs: 1, jitter: 0 } } }),
      { name: 'rr' },
    );
    rt.faults.inject({ path: '/rr/routee-0', action: { kind: 'crash' }, trigger: { nth: 1 } });
    for (let i = 0; i < 4; i++) dispatch(router, `m${i}`);
    await flush();
    clock.advance(1);
    await flush();
    expect(log.sort()).toEqual(['routee-0:m2', 'routee-1:m1', 'routee-1:m3']);
    expect(rt.metricsOf(rt.lookup('/rr/routee-0')!)).toMatchObject({ restarts: 1 });
  });

  it('sends to dead letters, counted, the messages still queued when its last routee stops', async () => {
    const rt = runtime();
    const log: string[] = [];
    const router = rt.spawn(rt.root, pool({ routing: 'round-robin', size: 2, routee: recorder(log) }), { name: 'rr' });
    await flush();
    const deadLetters: unknown[] = [];
    rt.events.on('dead-letter', (event) => void deadLetters.push(event.message));
    // Queued behind the router's notice that its last routee stopped: it processes them with no routee left.
    rt.events.on('stopped', (event) => {
      if (event.path === '/rr/routee-1') queueMicrotask(() => Array.from({ length: 5 }, (_, i) => dispatch(router, `m${i}`)));
    });
    await rt.stop(rt.lookup('/rr/routee-0')!);
    await rt.stop(rt.lookup('/rr/routee-1')!);
    for (let turn = 0; turn < 20 && rt.lookup('/rr') !== undefined; turn++) await flush();

    expect(rt.lookup('/rr')).toBeUndefined();
    expect(log).toEqual([]);
    expect(deadLetters).toEqual(['m0', 'm1', 'm2', 'm3', 'm4']);
    expect(rt.metrics().deadLetters).toBe(5);
  });

  it('refuses a bad pool definition with RouterConfigError', () => {
    expect(() => pool({ routing: 'round-robin', size: 0, routee: idle })).toThrow(RouterConfigError);
    expect(() => pool({ routing: 'consistent-hash', size: 2, routee: idle })).toThrow(/hashKey/);
  });
});
