import { describe, expect, it } from 'vitest';
import { agent } from '../../src/agents/agent.js';
import type { AgentMessage, ChangesReply, EpisodeReply, ImportReply, PredictionsReply } from '../../src/agents/messages.js';
import { ask, type ActorRef } from '../../src/index.js';
import { episodeStarts } from '../../src/learning/episode.js';
import { featureSpace } from '../../src/learning/features.js';
import { decodeBundle } from '../../src/memory/bundle.js';
import { ASK_MS, easySeries, patternIds, train, useAgentFixture } from './support.js';

const space = featureSpace();
const fixture = useAgentFixture();

const changes = (ref: ActorRef<AgentMessage>, since: number) =>
  ask(ref, (replyTo: ActorRef<ChangesReply>) => ({ type: 'changes', since, replyTo }), ASK_MS);

function accepted<R extends { ok: boolean }>(reply: R): Extract<R, { ok: true }> {
  if (!reply.ok) throw new Error(`refused: ${JSON.stringify(reply)}`);
  return reply as Extract<R, { ok: true }>;
}

describe('agent changes', () => {
  it('sends the patterns it originated that were written after a sequence number, and the number to ask from next', async () => {
    const rt = fixture.runtime();
    const memory = await fixture.memory(space);
    const ref = rt.spawn(rt.root, agent({ id: 'origin', space, memory }), { name: 'origin' });
    const series = easySeries(space, 11, 900);
    const [first, second] = episodeStarts(series);

    const empty = accepted(await changes(ref, 0));
    expect(empty).toMatchObject({ count: 0, seq: 0 });

    await train(ref, series, first!);
    const all = accepted(await changes(ref, 0));
    expect(all.count).toBe(memory.count());
    expect(all.seq).toBe(memory.lastSeq());

    const before = new Map([...memory.iterate()].map((p) => [p.id, p.version]));
    await train(ref, series, second!);
    const delta = accepted(await changes(ref, all.seq));
    const changed = [...memory.iterate()].filter((p) => before.get(p.id) !== p.version).map((p) => p.id).sort();
    const sent = decodeBundle(delta.bundle, memory).patterns;
    expect(sent.map((p) => p.id).sort()).toEqual(changed);
    expect(sent.every((p) => p.version === memory.get(p.id)!.version)).toBe(true);
    expect(accepted(await changes(ref, delta.seq)).count).toBe(0);
  });

  it('sends its changes in slices of at most `limit` patterns that together hold them all', async () => {
    const rt = fixture.runtime();
    const memory = await fixture.memory(space);
    const ref = rt.spawn(rt.root, agent({ id: 'origin', space, memory }), { name: 'origin' });
    const series = easySeries(space, 13, 900);
    await train(ref, series, episodeStarts(series)[0]!);
    const total = memory.count();
    expect(total).toBeGreaterThan(6);
    const limit = Math.ceil(total / 4);
    const seen = new Set<string>();
    let since = 0;
    let slices = 0;
    for (let more = true; more; slices++) {
      const reply = accepted(await ask(ref, (replyTo: ActorRef<ChangesReply>) => ({ type: 'changes', since, limit, replyTo }), ASK_MS));
      expect(reply.count).toBeLessThanOrEqual(limit);
      expect(reply.seq).toBeGreaterThan(since);
      for (const p of decodeBundle(reply.bundle, memory).patterns) seen.add(p.id);
      ({ seq: since, more } = reply);
      expect(slices).toBeLessThan(total);
    }
    expect(slices).toBeGreaterThanOrEqual(4);
    expect([...seen].sort()).toEqual(patternIds(memory).sort());
    expect(since).toBe(memory.lastSeq());
    const refused = await ask(ref, (replyTo: ActorRef<ChangesReply>) => ({ type: 'changes', since: 0, limit: 0, replyTo }), ASK_MS);
    expect(refused).toMatchObject({ ok: false, error: { code: 'INVALID_OPTION' } });
  });

  it('leaves out patterns another agent originated, so replicas never echo them back', async () => {
    const rt = fixture.runtime();
    const source = rt.spawn(rt.root, agent({ id: 'source', space, memory: await fixture.memory(space) }), { name: 'source' });
    const replicaMemory = await fixture.memory(space);
    const replica = rt.spawn(rt.root, agent({ id: 'replica', space, memory: replicaMemory }), { name: 'replica' });
    const series = easySeries(space, 12, 600);
    await train(source, series, episodeStarts(series)[0]!);

    const shipped = accepted(await changes(source, 0));
    const imported = accepted(await ask(replica, (replyTo: ActorRef<ImportReply>) => ({ type: 'import', bundle: shipped.bundle, mode: 'full', replyTo }), ASK_MS));
    expect(imported.imported.length).toBe(shipped.count);
    expect(patternIds(replicaMemory).length).toBe(shipped.count);
    expect(accepted(await changes(replica, 0)).count).toBe(0);
  });

  it('refuses a negative or fractional sequence number', async () => {
    const rt = fixture.runtime();
    const ref = rt.spawn(rt.root, agent({ id: 'a', space, memory: await fixture.memory(space) }), { name: 'a' });
    for (const since of [-1, 1.5, Number.NaN]) {
      expect(await changes(ref, since)).toMatchObject({ ok: false, error: { code: 'INVALID_OPTION' } });
    }
  });
});

describe('agent predictions', () => {
  it('calls every scored step of the window as the learner does, learning nothing', async () => {
    const rt = fixture.runtime();
    const memory = await fixture.memory(space);
    const ref = rt.spawn(rt.root, agent({ id: 'a', space, memory }), { name: 'a' });
    const series = easySeries(space, 13, 900);
    const [first, second] = episodeStarts(series);
    await train(ref, series, first!);
    const count = memory.count();

    const reply = accepted(await ask(ref, (replyTo: ActorRef<PredictionsReply>) => ({ type: 'predictions', series, start: second!, replyTo }), ASK_MS));
    expect(reply.steps).toHaveLength(63);
    expect(reply.steps[0]).toBe(second);
    const decided = reply.directions.filter((d) => d !== 0).length;
    const evaluated = accepted(await ask(ref, (replyTo: ActorRef<EpisodeReply>) => ({ type: 'evaluate', series, start: second!, replyTo }), ASK_MS));
    expect(decided).toBeGreaterThanOrEqual(evaluated.result.decided);
    expect(memory.count()).toBe(count);
  });

  it('refuses a window outside the series', async () => {
    const rt = fixture.runtime();
    const ref = rt.spawn(rt.root, agent({ id: 'a', space, memory: await fixture.memory(space) }), { name: 'a' });
    const series = easySeries(space, 14, 300);
    const reply = await ask(ref, (replyTo: ActorRef<PredictionsReply>) => ({ type: 'predictions', series, start: 290, replyTo }), ASK_MS);
    expect(reply).toMatchObject({ ok: false, error: { code: 'MARKET_OPTIONS' } });
  });
});
