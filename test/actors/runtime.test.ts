import { afterEach, describe, expect, it } from 'vitest';
import {
  ActorStoppedError,
  AskTimeoutError,
  SpawnError,
  ask,
  createInMemoryPersistence,
  createRuntime,
  dispatch,
  persistent,
  stateful,
  stateless,
  type ActorRef,
  type Runtime,
  type RuntimeEvent,
} from '../../src/index.js';
import { ManualClock, awaitEvent, createTestProbe, flush } from '../../src/testkit/index.js';

type CounterMsg =
  | { readonly type: 'add'; readonly n: number }
  | { readonly type: 'get'; readonly replyTo: ActorRef<number> };

const counter = stateful<number, CounterMsg>({
  initialState: 0,
  receive(total, message) {
    if (message.type === 'add') return total + message.n;
    dispatch(message.replyTo, total);
    return total;
  },
});

const runtimes: Runtime[] = [];
function runtime(options: Parameters<typeof createRuntime>[0] = {}): Runtime {
  const rt = createRuntime(options);
  runtimes.push(rt);
  return rt;
}

afterEach(async () => {
  await Promise.all(runtimes.splice(0).map((rt) => rt.stop()));
});

const get = (ref: ActorRef<CounterMsg>) => ask(ref, (replyTo) => ({ type: 'get', replyTo }), 1_000);

describe('runtime', () => {
  it('processes messages in the order each sender sent them', async () => {
    const rt = runtime();
    const seen: number[] = [];
    const ref = rt.spawn(rt.root, stateless((n: number) => void seen.push(n)), { name: 'ordered' });
    for (let i = 0; i < 10_000; i++) dispatch(ref, i);
    for (let turn = 0; turn < 100 && seen.length < 10_000; turn++) await flush();
    expect(seen).toEqual(Array.from({ length: 10_000 }, (_, i) => i));
  });

  it('answers an ask with the reply sent to replyTo', async () => {
    const rt = runtime();
    const ref = rt.spawn(rt.root, counter, { name: 'counter' });
    dispatch(ref, { type: 'add', n: 2 });
    dispatch(ref, { type: 'add', n: 3 });
    await expect(get(ref)).resolves.toBe(5);
  });

  it('rejects an ask with AskTimeoutError naming the actor path when no reply comes', async () => {
    const clock = new ManualClock();
    const rt = runtime({ clock });
    const silent = rt.spawn(rt.root, stateless((_: { replyTo: ActorRef<number> }) => undefined), { name: 'silent' });
    const pending = ask(silent, (replyTo: ActorRef<number>) => ({ replyTo }), 250);
    await flush();
    clock.advance(249);
    expect(rt.metrics().pendingAsks).toBe(1);
    clock.advance(1);
    const error = await pending.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AskTimeoutError);
    expect((error as AskTimeoutError).code).toBe('ASK_TIMEOUT');
    expect((error as AskTimeoutError).path).toBe('/silent');
    expect(rt.metrics().pendingAsks).toBe(0);
  });

  it('records a reply that arrives after the ask timed out as a dead letter', async () => {
    const clock = new ManualClock();
    const rt = runtime({ clock });
    let replyTo: ActorRef<number> | undefined;
    const slow = rt.spawn(rt.root, stateless((m: { replyTo: ActorRef<number> }) => void (replyTo = m.replyTo)), { name: 'slow' });
    const pending = ask(slow, (r: ActorRef<number>) => ({ replyTo: r }), 10).catch((e: unknown) => e);
    await flush();
    clock.advance(10);
    expect(await pending).toBeInstanceOf(AskTimeoutError);
    dispatch(replyTo as ActorRef<number>, 42);
    expect(rt.metrics().deadLetters).toBe(1);
  });

  it('rejects an ask to a stopped actor at once with ActorStoppedError', async () => {
    const rt = runtime();
    const ref = rt.spawn(rt.root, counter, { name: 'gone' });
    await rt.stop(ref);
    await expect(get(ref)).rejects.toBeInstanceOf(ActorStoppedError);
    expect(rt.metrics().deadLetters).toBe(1);
  });

  it('publishes messages to stopped and unknown actors as counted dead letters', async () => {
    const rt = runtime();
    const letters: RuntimeEvent[] = [];
    rt.events.on('dead-letter', (event) => letters.push(event));
    const ref = rt.spawn(rt.root, counter, { name: 'short-lived' });
    await rt.stop(ref);
    dispatch(ref, { type: 'add', n: 1 });
    dispatch(rt.refFor<CounterMsg>('/nobody/here'), { type: 'add', n: 2 });
    expect(rt.metrics().deadLetters).toBe(2);
    expect(letters).toMatchObject([
      { type: 'dead-letter', path: '/short-lived', reason: 'stopped', message: { type: 'add', n: 1 } },
      { type: 'dead-letter', path: '/nobody/here', reason: 'unknown', message: { type: 'add', n: 2 } },
    ]);
  });

  it('resolves a path ref to whichever actor holds the path when the message is sent', async () => {
    const rt = runtime();
    const byPath = rt.refFor<CounterMsg>('/parent/child');
    const parent = rt.spawn(rt.root, stateless((_: never) => undefined), { name: 'parent' });
    const child = rt.spawn(parent, counter, { name: 'child' });
    dispatch(byPath, { type: 'add', n: 7 });
    await expect(get(child)).resolves.toBe(7);
    expect(rt.lookup('/parent/child')).toBe(child);
  });

  it('refuses duplicate names, bad names and spawning under a stopped parent with SpawnError', async () => {
    const rt = runtime();
    const parent = rt.spawn(rt.root, counter, { name: 'p' });
    expect(() => rt.spawn(rt.root, counter, { name: 'p' })).toThrow(SpawnError);
    expect(() => rt.spawn(rt.root, counter, { name: 'a/b' })).toThrow(/may hold only/);
    await rt.stop(parent);
    expect(() => rt.spawn(parent, counter, { name: 'late' })).toThrow(SpawnError);
  });

  it('gives unnamed actors names that never collide', () => {
    const rt = runtime();
    const names = new Set<string>();
    for (let i = 0; i < 5_000; i++) names.add(rt.spawn(rt.root, counter).name);
    expect(names.size).toBe(5_000);
  });

  it('yields to I/O while a long mailbox drains', async () => {
    const rt = runtime({ batchSize: 256 });
    let processed = 0;
    const busy = rt.spawn(rt.root, stateless((_: number) => void processed++), { name: 'busy' });
    for (let i = 0; i < 100_000; i++) dispatch(busy, i);
    await new Promise((resolve) => setImmediate(resolve));
    const seenByIo = processed;
    expect(seenByIo).toBeGreaterThan(0);
    expect(seenByIo).toBeLessThan(100_000);
  });

  it('does not let an actor with a long mailbox hold up the others', async () => {
    const rt = runtime({ batchSize: 256 });
    let busyProcessed = 0;
    let busyWhenQuickRan: number | undefined;
    const busy = rt.spawn(rt.root, stateless((_: number) => void busyProcessed++), { name: 'busy' });
    const quick = rt.spawn(rt.root, stateless((_: number) => void (busyWhenQuickRan = busyProcessed)), { name: 'quick' });
    for (let i = 0; i < 100_000; i++) dispatch(busy, i);
    dispatch(quick, 0);
    for (let turn = 0; turn < 1_000 && busyWhenQuickRan === undefined; turn++) await flush(1);
    expect(busyWhenQuickRan).toBeLessThan(100_000);
  });

  it('keeps running the other actors while one awaits an async message', async () => {
    const rt = runtime();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const waited: number[] = [];
    const waiting = rt.spawn(
      rt.root,
      stateless(async (n: number) => {
        await gate;
        waited.push(n);
      }),
      { name: 'waiting' },
    );
    const other = rt.spawn(rt.root, counter, { name: 'other' });
    dispatch(waiting, 1);
    dispatch(waiting, 2);
    for (let i = 0; i < 3; i++) dispatch(other, { type: 'add', n: 1 });
    await expect(get(other)).resolves.toBe(3);
    expect(waited).toEqual([]);
    release();
    await flush();
    expect(waited).toEqual([1, 2]);
  });

  it('reports per-actor metrics: processed, mailbox depth, restarts and last error', async () => {
    const clock = new ManualClock();
    const rt = runtime({ clock });
    const ref = rt.spawn(
      rt.root,
      stateless((n: number) => {
        if (n < 0) throw new Error('negative');
      }),
      { name: 'measured' },
    );
    dispatch(ref, 1);
    dispatch(ref, -1);
    dispatch(ref, 2);
    await flush();
    expect(rt.metricsOf(ref)).toMatchObject({ processed: 1, failed: 1, mailboxDepth: 1, status: 'restarting' });
    clock.advance(1_000);
    await flush();
    const metrics = rt.metricsOf(ref);
    expect(metrics).toMatchObject({ processed: 2, failed: 1, restarts: 1, mailboxDepth: 0, status: 'running', incarnation: 1 });
    expect(metrics?.lastError?.message).toBe('negative');
  });
});

describe('stopping', () => {
  it('stops children before their parent, leaves first', async () => {
    const rt = runtime();
    const order: string[] = [];
    rt.events.on('stopped', (event) => order.push(event.path));
    const a = rt.spawn(rt.root, counter, { name: 'a' });
    const b = rt.spawn(a, counter, { name: 'b' });
    rt.spawn(b, counter, { name: 'c' });
    rt.spawn(a, counter, { name: 'd' });
    await rt.stop();
    expect(order.indexOf('/a/b/c')).toBeLessThan(order.indexOf('/a/b'));
    expect(order.indexOf('/a/b')).toBeLessThan(order.indexOf('/a'));
    expect(order.indexOf('/a/d')).toBeLessThan(order.indexOf('/a'));
    expect(order).toHaveLength(4);
    expect(rt.metrics().liveActors).toBe(0);
  });

  it('processes messages already queued before stopping, and dead-letters the ones sent after', async () => {
    const rt = runtime();
    let processed = 0;
    const ref = rt.spawn(
      rt.root,
      stateless(async (_: number) => {
        await new Promise((resolve) => setTimeout(resolve, 1));
        processed++;
      }),
      { name: 'draining' },
    );
    for (let i = 0; i < 20; i++) dispatch(ref, i);
    const stopped = rt.stop(ref);
    dispatch(ref, 99);
    await stopped;
    expect(processed).toBe(20);
    expect(rt.metrics().deadLetters).toBe(1);
  });

  it('finishes a graceful stop as soon as an async actor is idle, without waiting for the timeout', async () => {
    const clock = new ManualClock();
    const rt = runtime({ clock });
    const ref = rt.spawn(
      rt.root,
      stateful<number, { readonly replyTo: ActorRef<number> }>({
        initialState: 0,
        async receive(count, message) {
          dispatch(message.replyTo, count);
          return count + 1;
        },
      }),
      { name: 'async' },
    );
    await ask(ref, (replyTo) => ({ replyTo }), 1_000);
    // The reply came before the message finished; the manual clock never reaches the stop timeout,
    // so only the actor going idle can end this stop.
    await rt.stop(ref);
    expect(rt.metricsOf(ref)).toMatchObject({ status: 'stopped', processed: 1 });
  }, 5_000);

  it('gives up waiting after the stop timeout and dead-letters what is left', async () => {
    const rt = runtime({ stopTimeoutMs: 30 });
    const ref = rt.spawn(
      rt.root,
      stateless(async (_: number) => {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }),
      { name: 'slow' },
    );
    for (let i = 0; i < 10; i++) dispatch(ref, i);
    await rt.stop(ref);
    const metrics = rt.metrics();
    expect(metrics.processed).toBeLessThan(10);
    expect(metrics.deadLetters + metrics.processed).toBeGreaterThanOrEqual(9);
  });

  it('cancels timers and pending asks so nothing keeps the process alive', async () => {
    const rt = runtime();
    const ref = rt.spawn(
      rt.root,
      stateful<number, 'tick' | { replyTo: ActorRef<number> }>({
        initialState: (ctx) => {
          ctx.timers.startPeriodic('tick', 'tick', 10);
          return 0;
        },
        receive: (ticks, message) => (message === 'tick' ? ticks + 1 : ticks),
      }),
      { name: 'ticker' },
    );
    const pending = ask(ref, (replyTo: ActorRef<number>) => ({ replyTo }), 60_000).catch((e: unknown) => e);
    await rt.stop();
    expect(await pending).toBeInstanceOf(ActorStoppedError);
    expect(rt.isStopped).toBe(true);
    expect(rt.metrics().pendingAsks).toBe(0);
    expect(() => rt.spawn(rt.root, counter)).toThrow(SpawnError);
  });
});

describe('persistent actors', () => {
  type LogMsg = { readonly type: 'append'; readonly item: string } | { readonly type: 'list'; readonly replyTo: ActorRef<readonly string[]> };
  const log = (key: string, snapshotEvery?: number) =>
    persistent<readonly string[], LogMsg>({
      persistenceKey: key,
      initialState: [],
      snapshotEvery,
      async receive(items, message, ctx) {
        if (message.type === 'list') {
          dispatch(message.replyTo, items);
          return items;
        }
        if (!ctx.recovering) await ctx.persist(message);
        return [...items, message.item];
      },
    });
  const list = (ref: ActorRef<LogMsg>) =>
    ask(ref, (replyTo) => ({ type: 'list', replyTo }), 2_000);

  it('recovers every persisted event after a kill and restart', async () => {
    const persistence = createInMemoryPersistence();
    const rt = runtime({ persistence });
    const ref = rt.spawn(rt.root, log('log-1'), { name: 'log', supervision: { backoff: { minMs: 1 } } });
    for (let i = 0; i < 50; i++) dispatch(ref, { type: 'append', item: `e${i}` });
    await list(ref);
    rt.faults.kill(ref);
    await awaitEvent(rt, (e) => e.type === 'restarted' && e.path === '/log');
    const items = await list(ref);
    expect(items).toEqual(Array.from({ length: 50 }, (_, i) => `e${i}`));
    expect(persistence.eventCount('log-1')).toBe(50);
  });

  it('lets a message in flight finish persisting before the restarted incarnation recovers', async () => {
    const memory = createInMemoryPersistence();
    const slow = { ...memory, persist: async (event: Parameters<typeof memory.persist>[0]) => {
      await new Promise((resolve) => setTimeout(resolve, 30));
      await memory.persist(event);
    } };
    const rt = runtime({ persistence: slow });
    const ref = rt.spawn(rt.root, log('log-3'), { name: 'log', supervision: { backoff: { minMs: 1, jitter: 0 } } });
    dispatch(ref, { type: 'append', item: 'first' });
    dispatch(ref, { type: 'append', item: 'second' });
    await new Promise((resolve) => setTimeout(resolve, 10));
    rt.faults.kill(ref);
    await awaitEvent(rt, (e) => e.type === 'restarted' && e.path === '/log');
    expect(await list(ref)).toEqual(['first', 'second']);
    expect(memory.eventCount('log-3')).toBe(2);
  });

  it('recovers from a snapshot plus the journal tail in a new runtime', async () => {
    const persistence = createInMemoryPersistence();
    const first = runtime({ persistence });
    const ref = first.spawn(first.root, log('log-2', 10), { name: 'log' });
    for (let i = 0; i < 25; i++) dispatch(ref, { type: 'append', item: `e${i}` });
    await list(ref);
    for (let i = 25; i < 28; i++) {
      dispatch(ref, { type: 'append', item: `e${i}` });
      await list(ref);
    }
    await first.stop();
    // Snapshots are taken between batches, so the snapshot holds at least the first 10 events.
    const snapshot = await persistence.latestSnapshot('log-2');
    expect(snapshot?.sequenceNumber).toBeGreaterThanOrEqual(10);
    const second = runtime({ persistence });
    const again = second.spawn(second.root, log('log-2', 10), { name: 'log' });
    expect(await list(again)).toEqual(Array.from({ length: 28 }, (_, i) => `e${i}`));
  });

  it('refuses to spawn a persistent actor without a persistence engine', () => {
    const rt = runtime();
    expect(() => rt.spawn(rt.root, log('x'), { name: 'p' })).toThrow(/persistence engine/);
  });

  it('lets a probe observe replies', async () => {
    const rt = runtime();
    const probe = createTestProbe<number>(rt);
    const ref = rt.spawn(rt.root, counter, { name: 'c' });
    dispatch(ref, { type: 'add', n: 4 });
    dispatch(ref, { type: 'get', replyTo: probe.ref });
    await probe.expectMessage(4);
  });
});
