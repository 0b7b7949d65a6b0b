import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ask, createRuntime, dispatch, persistent, type ActorRef, type Runtime } from '../../src/index.js';
import { openLmdbPersistence, type LmdbPersistence } from '../../src/memory/persistence-engine.js';
import { awaitEvent } from '../../src/testkit/index.js';

type LedgerMsg =
  | { readonly type: 'record'; readonly n: number }
  | { readonly type: 'history'; readonly replyTo: ActorRef<readonly number[]> };

const ledger = persistent<readonly number[], LedgerMsg>({
  persistenceKey: 'ledger',
  initialState: [],
  snapshotEvery: 50,
  async receive(history, message, ctx) {
    if (message.type === 'history') {
      dispatch(message.replyTo, history);
      return history;
    }
    if (!ctx.recovering) await ctx.persist(message);
    return [...history, message.n];
  },
});

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function setup(dir = fs.mkdtempSync(path.join(os.tmpdir(), 'swarmbank-actor-'))) {
  const persistence: LmdbPersistence = openLmdbPersistence({ path: dir });
  const runtime: Runtime = createRuntime({ persistence, seed: 4 });
  cleanups.push(async () => {
    await runtime.stop();
    await persistence.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  return { dir, persistence, runtime };
}

const history = (ref: ActorRef<LedgerMsg>) => ask(ref, (replyTo) => ({ type: 'history', replyTo }), 5_000);

describe('persistent actors on LMDB', () => {
  it('restart with every persisted event after being killed mid-stream', async () => {
    const { runtime } = setup();
    const ref = runtime.spawn(runtime.root, ledger, { name: 'ledger', supervision: { backoff: { minMs: 1, maxMs: 5 } } });
    runtime.faults.run({ seed: 1, steps: [{ at: { afterMessages: 120, path: '/ledger' }, kill: '/ledger' }] });
    const restarted = awaitEvent(runtime, (e) => e.type === 'restarted' && e.path === '/ledger', 10_000);
    for (let n = 0; n < 300; n++) {
      dispatch(ref, { type: 'record', n });
      if (n % 20 === 19) await new Promise((resolve) => setImmediate(resolve));
    }
    await restarted;
    expect(await history(ref)).toEqual(Array.from({ length: 300 }, (_, n) => n));
    expect(runtime.metricsOf(ref)).toMatchObject({ restarts: 1, incarnation: 1 });
  });

  it('recover their history in a new runtime on the same directory', async () => {
    const first = setup();
    const ref = first.runtime.spawn(first.runtime.root, ledger, { name: 'ledger' });
    for (let n = 0; n < 130; n++) dispatch(ref, { type: 'record', n });
    await history(ref);
    await first.runtime.stop();
    await first.persistence.close();
    const second = setup(first.dir);
    const again = second.runtime.spawn(second.runtime.root, ledger, { name: 'ledger' });
    expect(await history(again)).toEqual(Array.from({ length: 130 }, (_, n) => n));
    expect(await second.persistence.latestSnapshot('ledger')).toBeDefined();
  });
});
