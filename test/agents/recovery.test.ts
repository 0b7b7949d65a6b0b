import { describe, expect, it } from 'vitest';
import { agent } from '../../src/agents/agent.js';
import type { AgentMessage, AgentMetrics, ExportReply, ImportReply } from '../../src/agents/messages.js';
import { ask, dispatch, type ActorRef, type RuntimeEvent } from '../../src/index.js';
import { episodeStarts, runEpisode } from '../../src/learning/episode.js';
import { featureSpace } from '../../src/learning/features.js';
import { PatternLearner } from '../../src/learning/learner.js';
import { decodeBundle } from '../../src/memory/bundle.js';
import { awaitEvent } from '../../src/testkit/index.js';
import { ASK_MS, easySeries, evaluateAll, patternIds, train, useAgentFixture } from './support.js';

const space = featureSpace();
const fixture = useAgentFixture();
/** Restart at once: the tests wait on events, not on time. */
const supervision = { backoff: { minMs: 1, maxMs: 1, jitter: 0 } };

const metricsOf = (ref: ActorRef<AgentMessage>) => ask(ref, (replyTo: ActorRef<AgentMetrics>) => ({ type: 'metrics', replyTo }), ASK_MS);

/** The ids of the patterns an agent's memory holds, read through an exported bundle. */
async function exportedIds(ref: ActorRef<AgentMessage>): Promise<string[]> {
  const reply = await ask(ref, (replyTo: ActorRef<ExportReply>) => ({ type: 'export', replyTo }), ASK_MS);
  if (!reply.ok) throw new Error(reply.error.message);
  return decodeBundle(reply.bundle, { dimensions: space.dimensions, featureSpaceId: space.id }).patterns.map((pattern) => pattern.id);
}

describe('agent recovery', () => {
  it('keeps every pattern committed before it was killed mid-training, reloads them on restart, and trains on', async () => {
    const rt = fixture.runtime();
    const memory = await fixture.memory(space);
    const ref = rt.spawn(rt.root, agent({ id: 'a', space, memory }), { name: 'a', supervision });
    const series = easySeries(space, 21, 1_200);
    const starts = episodeStarts(series);
    let committedBeforeKill: string[] | undefined;
    // Listeners run synchronously: the memory is read at the moment of the kill, before the runtime acts on it.
    rt.events.on('fault-injected', (event) => {
      if (event.fault === 'kill') committedBeforeKill = patternIds(memory);
    });
    const restarted = awaitEvent(rt, (event) => event.type === 'restarted' && event.path === '/a', ASK_MS);

    const plan = rt.faults.run({ seed: 7, steps: [{ at: { afterMessages: 6, path: '/a' }, kill: '/a' }] });
    for (const [episode, start] of starts.entries()) dispatch(ref, { type: 'train', series, start, episode });
    await plan.done;
    await restarted;
    const held = easySeries(space, 22, 600);
    const recovered = await evaluateAll(ref, held);

    expect(committedBeforeKill?.length).toBeGreaterThan(0);
    expect(patternIds(memory)).toEqual(expect.arrayContaining(committedBeforeKill!));
    const metrics = await metricsOf(ref);
    expect(metrics).toMatchObject({ incarnation: 1, patterns: memory.count() });
    // The new incarnation took over the episodes still queued.
    expect(metrics.episodesTrained).toBeGreaterThan(0);
    expect(metrics.episodesTrained).toBeLessThan(starts.length);
    expect(rt.metricsOf(ref)).toMatchObject({ failed: 1, restarts: 1 });
    expect(rt.metrics().deadLetters).toBe(0);
    // The new incarnation votes with exactly what the memory holds: what was committed before the kill and after.
    const reference = await PatternLearner.open({ space, memory, agentId: 'a' });
    const expected = await Promise.all(episodeStarts(held).map((start) => runEpisode(reference, held, { start, mode: 'eval' })));
    reference.close();
    expect(recovered.results).toEqual(expected);
  });

  it('reopens the memory directory it owns after each restart, keeping what it committed', async () => {
    const rt = fixture.runtime();
    const dir = fixture.dir();
    const events: RuntimeEvent[] = [];
    rt.events.subscribe((event) => events.push(event));
    const ref = rt.spawn(rt.root, agent({ id: 'a', space, memory: { path: dir, capacity: 100_000 } }), { name: 'a', supervision });
    const series = easySeries(space, 23, 1_200);
    const [first, second, ...rest] = episodeStarts(series);
    expect(await train(ref, series, first!)).toMatchObject({ ok: true });
    expect(await train(ref, series, second!)).toMatchObject({ ok: true });
    const committed = await exportedIds(ref);

    // A crash before a message is handled, then a kill while one is in flight, its memory still open.
    rt.faults.inject({ path: '/a', action: { kind: 'crash' }, trigger: { nth: 2 }, times: 1 });
    const restartedTwice = awaitEvent(rt, () => events.filter((e) => e.type === 'restarted').length === 2, ASK_MS);
    rt.faults.run({ seed: 3, steps: [{ at: { afterMessages: 4, path: '/a' }, kill: '/a' }] });
    for (const start of rest) dispatch(ref, { type: 'train', series, start });
    await restartedTwice;

    const after = await exportedIds(ref);
    expect(after).toEqual(expect.arrayContaining(committed));
    expect(after.length).toBeGreaterThan(committed.length);
    expect(await metricsOf(ref)).toMatchObject({ incarnation: 2, patterns: after.length });
    const crashes = events.flatMap((e) => (e.type === 'crashed' ? [e.error.name] : []));
    expect(crashes).toEqual(['InjectedFaultError', 'ActorKilledError']);
  });

  it('finishes the request in flight when killed, and closes the memory it owns only after it', async () => {
    const rt = fixture.runtime();
    const events: RuntimeEvent[] = [];
    rt.events.subscribe((event) => events.push(event));
    const teacher = rt.spawn(rt.root, agent({ id: 'teacher', space, memory: await fixture.memory(space) }), { name: 'teacher' });
    const ref = rt.spawn(rt.root, agent({ id: 'a', space, memory: { path: fixture.dir() } }), { name: 'a', supervision });
    const series = easySeries(space, 25, 800);
    for (const start of episodeStarts(series)) expect(await train(teacher, series, start)).toMatchObject({ ok: true });
    const bundle = await ask(teacher, (replyTo: ActorRef<ExportReply>) => ({ type: 'export', replyTo }), ASK_MS);
    if (!bundle.ok) throw new Error(bundle.error.message);
    const restarted = awaitEvent(rt, (event) => event.type === 'restarted' && event.path === '/a', ASK_MS);

    // The kill lands while the import writes; the import then reloads the learner from the memory, which must still be open.
    rt.faults.run({ seed: 5, steps: [{ at: { afterMessages: 1, path: '/a' }, kill: '/a' }] });
    const imported = await ask(ref, (replyTo: ActorRef<ImportReply>) => ({ type: 'import', bundle: bundle.bundle, mode: 'full', replyTo }), ASK_MS);
    await restarted;

    if (!imported.ok) throw new Error(imported.error.message);
    expect((await exportedIds(ref)).sort()).toEqual([...imported.imported].sort());
    expect(events.filter((e) => e.type === 'crashed' && e.path === '/a')).toEqual([expect.objectContaining({ error: expect.objectContaining({ code: 'ACTOR_KILLED' }) })]);
    expect(await metricsOf(ref)).toMatchObject({ incarnation: 1, patterns: imported.imported.length });
  });

  it('fails to supervision, not silently, when the memory directory cannot be opened', async () => {
    const rt = fixture.runtime();
    const dir = fixture.dir();
    const other = featureSpace({ returnLags: [1, 2, 4] });
    const first = rt.spawn(rt.root, agent({ id: 'a', space: other, memory: { path: dir } }), { name: 'first' });
    await metricsOf(first);
    await rt.stop(first);
    const crashed = awaitEvent(rt, (event) => event.type === 'crashed' && event.path === '/second', ASK_MS);
    const stopped = awaitEvent(rt, (event) => event.type === 'stopped' && event.path === '/second', ASK_MS);

    const second = rt.spawn(rt.root, agent({ id: 'a', space, memory: { path: dir } }), { name: 'second', supervision: { directive: 'stop' } });
    const series = easySeries(space, 24, 300);
    dispatch(second, { type: 'train', series, start: episodeStarts(series)[0]! });

    expect(await crashed).toMatchObject({ error: { code: 'MEMORY_OPTIONS' } });
    expect(await stopped).toMatchObject({ reason: 'failure' });
  });

  it('fails to supervision when the learner it is given is of another feature space', async () => {
    const rt = fixture.runtime();
    const other = featureSpace({ returnLags: [1, 2, 4] });
    const memory = await fixture.memory(space);
    const learner = () => PatternLearner.open({ space: other });
    const crashed = awaitEvent(rt, (event) => event.type === 'crashed' && event.path === '/a', ASK_MS);

    const ref = rt.spawn(rt.root, agent({ id: 'a', space, memory, learner }), { name: 'a', supervision: { directive: 'stop' } });
    dispatch(ref, { type: 'train', series: easySeries(space, 26, 300), start: 100 });

    expect(await crashed).toMatchObject({ error: { code: 'AGENT_OPTIONS', option: 'learner' } });
    expect(patternIds(memory)).toEqual([]);
  });
});
