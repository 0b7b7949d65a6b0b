import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { agent } from '../../src/agents/agent.js';
import type { AgentMessage, ChangesReply, EpisodeReply } from '../../src/agents/messages.js';
import { episodeStarts } from '../../src/learning/episode.js';
import { easySeries } from '../agents/support.js';
import { ask, createInMemoryPersistence, createRuntime, dispatch, stateless, type ActorRef, type Runtime } from '../../src/index.js';
import { featureSpace } from '../../src/learning/features.js';
import { openPatternMemory, type PatternMemory } from '../../src/memory/store.js';
import { DeploymentEvents } from '../../src/topologies/events.js';
import { replicator, type PulledFrom, type PullSource, type ReplicatorMessage } from '../../src/topologies/replicator.js';
import { Swarm } from '../../src/topologies/swarm.js';
import { awaitEvent } from '../../src/testkit/index.js';

const space = featureSpace();
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setup(): Promise<{ runtime: Runtime; swarm: Swarm; memory: PatternMemory; own: ActorRef<AgentMessage> }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'swarmbank-replicator-'));
  const runtime = createRuntime({ persistence: createInMemoryPersistence() });
  const memory = await openPatternMemory({ path: path.join(dir, 'own'), dimensions: space.dimensions, featureSpaceId: space.id });
  cleanups.push(async () => {
    await runtime.stop();
    await memory.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const swarm = new Swarm({ runtime, space, dataDir: dir, events: new DeploymentEvents(), askTimeoutMs: 5_000 });
  const own = runtime.spawn(runtime.root, agent({ id: 'own', space, memory }), { name: 'own' });
  return { runtime, swarm, memory, own };
}

/** A peer that answers `changes` with fixed bytes and sequence number, and records the `since` it was asked from. */
function fakePeer(runtime: Runtime, bundle: Uint8Array, count: number, seq: number, asked: number[]): ActorRef<AgentMessage> {
  return runtime.spawn(
    runtime.root,
    stateless<AgentMessage>((message) => {
      if (message.type !== 'changes') return;
      asked.push(message.since);
      dispatch(message.replyTo, { ok: true, bundle, count, seq, more: false });
    }),
    { name: 'peer' },
  );
}

const pull = (ref: ActorRef<ReplicatorMessage>, sources: readonly PullSource[]) =>
  ask(ref, (replyTo: ActorRef<readonly PulledFrom[]>) => ({ type: 'pull', sources, replyTo }), 5_000);

describe('replicator', () => {
  it('refuses a bundle that fails validation on arrival, counts what it carried, and moves past it', async () => {
    const { runtime, swarm, memory, own } = await setup();
    const asked: number[] = [];
    const peer = fakePeer(runtime, new Uint8Array([0xc1, 0x00, 0x13]), 3, 7, asked);
    const sync = runtime.spawn(runtime.root, replicator({ id: 'own', ref: own }, { featureSpaceId: space.id, dimensions: space.dimensions }, swarm.requester), { name: 'sync' });
    const [report] = await pull(sync, [{ id: 'peer', ref: peer }]);
    expect(report).toMatchObject({ origin: 'peer', patterns: 0, refused: 3, reached: true });
    expect(memory.count()).toBe(0);
    await pull(sync, [{ id: 'peer', ref: peer }]);
    expect(asked).toEqual([0, 7]);
  });

  it('fetches a peer that is far ahead in slices and imports them all in one pull', async () => {
    const { runtime, swarm, memory, own } = await setup();
    const sourceMemory = await openPatternMemory({ path: fs.mkdtempSync(path.join(os.tmpdir(), 'swarmbank-replicator-source-')), dimensions: space.dimensions, featureSpaceId: space.id });
    cleanups.push(async () => {
      await sourceMemory.close();
      fs.rmSync(sourceMemory.path, { recursive: true, force: true });
    });
    const source = runtime.spawn(runtime.root, agent({ id: 'source', space, memory: sourceMemory }), { name: 'source' });
    const series = easySeries(space, 21, 900);
    await ask(source, (replyTo: ActorRef<EpisodeReply>) => ({ type: 'train', series, start: episodeStarts(series)[0]!, episode: 1, replyTo }), 10_000);
    const total = sourceMemory.count();
    expect(total).toBeGreaterThan(8);
    const asked: number[] = [];
    const counting = runtime.spawn(
      runtime.root,
      stateless<AgentMessage>((message) => {
        if (message.type === 'changes') asked.push(message.limit ?? Number.POSITIVE_INFINITY);
        dispatch(source, message);
      }),
      { name: 'counting' },
    );
    // Slices of about four patterns each.
    const sliceBytes = 4 * (space.dimensions * 4 + 512);
    const sync = runtime.spawn(runtime.root, replicator({ id: 'own', ref: own }, { featureSpaceId: space.id, dimensions: space.dimensions }, swarm.requester, { sliceBytes }), { name: 'sync' });
    const [report] = await pull(sync, [{ id: 'source', ref: counting }]);
    expect(report).toMatchObject({ origin: 'source', patterns: total, reached: true });
    expect(memory.count()).toBe(total);
    expect(asked.length).toBeGreaterThanOrEqual(Math.ceil(total / 4));
    expect(asked.every((limit) => limit === 4)).toBe(true);
  });

  it('takes changes offered with a commit notice without asking when in step, and asks when they start past its mark', async () => {
    const { runtime, swarm, memory, own } = await setup();
    const sourceMemory = await openPatternMemory({ path: fs.mkdtempSync(path.join(os.tmpdir(), 'swarmbank-replicator-offer-')), dimensions: space.dimensions, featureSpaceId: space.id });
    cleanups.push(async () => {
      await sourceMemory.close();
      fs.rmSync(sourceMemory.path, { recursive: true, force: true });
    });
    const source = runtime.spawn(runtime.root, agent({ id: 'source', space, memory: sourceMemory }), { name: 'source' });
    const series = easySeries(space, 22, 900);
    await ask(source, (replyTo: ActorRef<EpisodeReply>) => ({ type: 'train', series, start: episodeStarts(series)[0]!, episode: 1, replyTo }), 10_000);
    const changes = await ask(source, (replyTo: ActorRef<ChangesReply>) => ({ type: 'changes', since: 0, replyTo }), 5_000);
    if (!changes.ok) throw new Error(changes.error.message);
    const asked: number[] = [];
    const counting = runtime.spawn(
      runtime.root,
      stateless<AgentMessage>((message) => {
        if (message.type === 'changes') asked.push(message.since);
        dispatch(source, message);
      }),
      { name: 'counting' },
    );
    const sync = runtime.spawn(runtime.root, replicator({ id: 'own', ref: own }, { featureSpaceId: space.id, dimensions: space.dimensions }, swarm.requester), { name: 'sync' });
    const offer = (from: number, bundle = changes.bundle) => [{ id: 'source', ref: counting, offered: { from, seq: changes.seq, bundle } }];

    // Offered from past its mark (0): it asks from its mark instead.
    await pull(sync, offer(1));
    expect(asked).toEqual([0]);
    expect(memory.count()).toBe(sourceMemory.count());
    // In step (and past what it offers): nothing asked, nothing imported again.
    const seq = memory.lastSeq();
    expect(await pull(sync, offer(0))).toMatchObject([{ origin: 'source', patterns: 0, reached: true }]);
    expect(asked).toEqual([0]);
    expect(memory.lastSeq()).toBe(seq);

    const fresh = await setup();
    const taker = fresh.runtime.spawn(fresh.runtime.root, replicator({ id: 'own', ref: fresh.own }, { featureSpaceId: space.id, dimensions: space.dimensions }, fresh.swarm.requester), { name: 'sync' });
    const silent = fresh.runtime.spawn(fresh.runtime.root, stateless<AgentMessage>(() => undefined), { name: 'silent' });
    // A corrupt offer is refused whole and moved past, as a fetched bundle would be.
    const [refused] = await pull(taker, [{ id: 'source', ref: silent, offered: { from: 0, seq: 2, bundle: new Uint8Array([0xc1]) } }]);
    expect(refused).toMatchObject({ patterns: 0, reached: true });
    expect(fresh.memory.count()).toBe(0);
    // A good one lands without a question to the (silent) origin.
    const [report] = await pull(taker, [{ id: 'source', ref: silent, offered: { from: 2, seq: changes.seq, bundle: changes.bundle } }]);
    expect(report).toMatchObject({ origin: 'source', patterns: changes.count, reached: true });
    expect(fresh.memory.count()).toBe(changes.count);
  });

  it('keeps its high-water marks through a crash, so it does not pull everything again', async () => {
    const { runtime, swarm, own } = await setup();
    const asked: number[] = [];
    const peer = fakePeer(runtime, new Uint8Array(), 0, 5, asked);
    const sync = runtime.spawn(runtime.root, replicator({ id: 'own', ref: own }, { featureSpaceId: space.id, dimensions: space.dimensions }, swarm.requester), { name: 'sync' });
    await pull(sync, [{ id: 'peer', ref: peer }]);
    const restarted = awaitEvent(runtime, (e) => e.type === 'restarted' && e.path === sync.path);
    runtime.faults.kill(sync);
    await restarted;
    await pull(sync, [{ id: 'peer', ref: peer }]);
    expect(asked).toEqual([0, 5]);
  });
});
