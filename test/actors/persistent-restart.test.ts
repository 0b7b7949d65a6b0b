import { afterEach, describe, expect, it } from 'vitest';
import {
  ask,
  createInMemoryPersistence,
  createRuntime,
  dispatch,
  persistent,
  type ActorRef,
  type PersistenceEngine,
  type Runtime,
} from '../../src/index.js';
import { awaitEvent } from '../../src/testkit/index.js';

/**
 * A persistent actor killed while a message awaits its persist must come back
 * with every persisted event, that one included, however the message then
 * ends: the journal, not the ended incarnation's state, is what it recovers.
 * `snapshotEvery` is small so that nact is due a snapshot when the killed
 * incarnation's last turn ends.
 */

type Msg =
  | { readonly type: 'record'; readonly n: number; readonly failAfterPersist?: boolean }
  | { readonly type: 'history'; readonly replyTo: ActorRef<readonly number[]> };

const ledger = persistent<readonly number[], Msg>({
  persistenceKey: 'ledger',
  initialState: [],
  snapshotEvery: 2,
  async receive(history, message, ctx) {
    if (message.type === 'history') {
      dispatch(message.replyTo, history);
      return history;
    }
    if (!ctx.recovering) {
      await ctx.persist(message);
      if (message.failAfterPersist) throw new Error(`failed after persisting ${message.n}`);
    }
    return [...history, message.n];
  },
});

/** An in-memory engine whose persist of the event recording `n` waits until released. */
function gatedPersistence(n: number) {
  const engine = createInMemoryPersistence();
  let reached!: () => void;
  let release!: () => void;
  const persisting = new Promise<void>((resolve) => (reached = resolve));
  const released = new Promise<void>((resolve) => (release = resolve));
  const gated: PersistenceEngine = {
    events: (key, after) => engine.events(key, after),
    latestSnapshot: (key) => engine.latestSnapshot(key),
    takeSnapshot: (snapshot) => engine.takeSnapshot(snapshot),
    async persist(event) {
      if ((event.data as { n?: number }).n === n) {
        reached();
        await released;
      }
      return engine.persist(event);
    },
  };
  return { engine: gated, persisting, release };
}

const runtimes: Runtime[] = [];
afterEach(async () => {
  for (const runtime of runtimes.splice(0)) await runtime.stop();
});

async function killDuringPersist(failAfterPersist: boolean, settleAfterRestartIsDue = false) {
  const { engine, persisting, release } = gatedPersistence(3);
  const runtime = createRuntime({ persistence: engine, seed: 1 });
  runtimes.push(runtime);
  const ref = runtime.spawn(runtime.root, ledger, { name: 'ledger', supervision: { backoff: { minMs: 1, maxMs: 1 } } });
  for (let n = 0; n < 6; n++) dispatch(ref, { type: 'record', n, failAfterPersist: failAfterPersist && n === 3 });
  await persisting;
  const restarted = awaitEvent(runtime, (e) => e.type === 'restarted' && e.path === '/ledger', 5_000);
  const afterEnd = awaitEvent(runtime, (e) => e.type === 'after-end' && e.path === '/ledger', 5_000);
  expect(runtime.faults.kill(ref)).toBe(true);
  // The next incarnation then starts as soon as the message settles, before nact ends the killed host's turn.
  if (settleAfterRestartIsDue) await new Promise((resolve) => setTimeout(resolve, 20));
  release();
  expect(await afterEnd).toMatchObject({ outcome: failAfterPersist ? 'failed' : 'succeeded', message: { n: 3 } });
  await restarted;
  const history = await ask(ref, (replyTo: ActorRef<readonly number[]>) => ({ type: 'history', replyTo }), 5_000);
  expect(history).toEqual([0, 1, 2, 3, 4, 5]);
  expect(runtime.metricsOf(ref)).toMatchObject({ restarts: 1, incarnation: 1 });
}

describe('persistent actor killed during an async persist', () => {
  it('recovers the event of the message in flight when that message then succeeds', async () => {
    await killDuringPersist(false);
  });

  it('recovers the event of the message in flight when that message then fails', async () => {
    await killDuringPersist(true);
  });

  it('recovers every event when the restart is due before the message in flight settles', async () => {
    await killDuringPersist(false, true);
  });
});

type SlowMsg =
  | { readonly type: 'record'; readonly n: number; readonly before?: Promise<void> }
  | { readonly type: 'history'; readonly replyTo: ActorRef<readonly number[]> };

const slowLedger = persistent<readonly number[], SlowMsg>({
  persistenceKey: 'slow-ledger',
  initialState: [],
  async receive(history, message, ctx) {
    if (message.type === 'history') {
      dispatch(message.replyTo, history);
      return history;
    }
    if (!ctx.recovering) {
      await message.before;
      await ctx.persist({ type: 'record', n: message.n });
    }
    return [...history, message.n];
  },
});

describe('persistent actor killed while recovering', () => {
  it('persists through the live host only, though the killed host goes on replaying', async () => {
    const engine = createInMemoryPersistence();
    const first = createRuntime({ persistence: engine, seed: 1 });
    runtimes.push(first);
    const seed = first.spawn(first.root, slowLedger, { name: 'ledger' });
    for (let n = 0; n < 3; n++) dispatch(seed, { type: 'record', n });
    await ask(seed, (replyTo: ActorRef<readonly number[]>) => ({ type: 'history', replyTo }), 5_000);
    await first.stop();

    // The first recovery's replay waits until released; later ones do not.
    let replaying!: () => void;
    let resumeReplay!: () => void;
    const replayReached = new Promise<void>((resolve) => (replaying = resolve));
    const replayResumed = new Promise<void>((resolve) => (resumeReplay = resolve));
    let recoveries = 0;
    const gated: PersistenceEngine = {
      events(key, after) {
        if (++recoveries > 1) return engine.events(key, after);
        return (async function* () {
          replaying();
          await replayResumed;
          yield* engine.events(key, after);
        })();
      },
      latestSnapshot: (key) => engine.latestSnapshot(key),
      takeSnapshot: (snapshot) => engine.takeSnapshot(snapshot),
      persist: (event) => engine.persist(event),
    };
    const runtime = createRuntime({ persistence: gated, seed: 1 });
    runtimes.push(runtime);
    const ref = runtime.spawn(runtime.root, slowLedger, { name: 'ledger', supervision: { backoff: { minMs: 1, maxMs: 1 } } });
    const history = () => ask(ref, (replyTo: ActorRef<readonly number[]>) => ({ type: 'history', replyTo }), 5_000);
    await replayReached;
    const restarted = awaitEvent(runtime, (e) => e.type === 'restarted' && e.path === '/ledger', 5_000);
    expect(runtime.faults.kill(ref)).toBe(true);
    await restarted;
    expect(await history()).toEqual([0, 1, 2]);

    // The killed host replays while the live one's message waits to persist.
    let go!: () => void;
    dispatch(ref, { type: 'record', n: 3, before: new Promise<void>((resolve) => (go = resolve)) });
    dispatch(ref, { type: 'record', n: 4 });
    await new Promise((resolve) => setImmediate(resolve));
    resumeReplay();
    await new Promise((resolve) => setTimeout(resolve, 10));
    go();
    expect(await history()).toEqual([0, 1, 2, 3, 4]);
    // In a turn of its own, so that the live host hands out its persist again.
    await new Promise((resolve) => setTimeout(resolve, 10));
    dispatch(ref, { type: 'record', n: 5 });
    expect(await history()).toEqual([0, 1, 2, 3, 4, 5]);

    const sequence = [...(engine.events('slow-ledger', 0) as Iterable<{ sequenceNumber: number }>)].map((e) => e.sequenceNumber);
    expect(sequence).toEqual([1, 2, 3, 4, 5, 6]);
    const again = awaitEvent(runtime, (e) => e.type === 'restarted' && e.path === '/ledger', 5_000);
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(runtime.faults.kill(ref)).toBe(true);
    await again;
    expect(await history()).toEqual([0, 1, 2, 3, 4, 5]);
  });
});
