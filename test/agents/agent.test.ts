import { describe, expect, it } from 'vitest';
import { agent } from '../../src/agents/agent.js';
import { encodeBundle } from '../../src/memory/bundle.js';
import { AgentOptionsError } from '../../src/agents/errors.js';
import type { AgentMessage, AgentMetrics, EpisodeReply, ExportReply, IdsReply, ImportReply, MaintainReply, PredictReply } from '../../src/agents/messages.js';
import { ask, type ActorRef } from '../../src/index.js';
import { episodeStarts, runEpisode } from '../../src/learning/episode.js';
import { featureSpace } from '../../src/learning/features.js';
import { PatternLearner, type Learner } from '../../src/learning/learner.js';
import { ASK_MS, easySeries, evaluateAll, patternIds, train, trainAll, useAgentFixture } from './support.js';

const space = featureSpace();
/** Another feature space: other lags, so other dimensions and another id. */
const otherSpace = featureSpace({ returnLags: [1, 2, 4] });
const fixture = useAgentFixture();

const metricsOf = (ref: ActorRef<AgentMessage>) =>
  ask(ref, (replyTo: ActorRef<AgentMetrics>) => ({ type: 'metrics', replyTo }), ASK_MS);

describe('agent', () => {
  it('learns an easy market: held-out accuracy well above chance', async () => {
    const rt = fixture.runtime();
    const ref = rt.spawn(rt.root, agent({ id: 'a', space, memory: await fixture.memory(space) }), { name: 'a' });
    const replies = await trainAll(ref, easySeries(space, 1, 2_000));
    expect(replies.every((reply) => reply.ok)).toBe(true);
    const held = await evaluateAll(ref, easySeries(space, 2, 1_000));
    expect(held.decided).toBeGreaterThan(500);
    expect(held.accuracy).toBeGreaterThan(0.7);
  });

  it('reports the work it has done in its metrics', async () => {
    const rt = fixture.runtime();
    const memory = await fixture.memory(space);
    const ref = rt.spawn(rt.root, agent({ id: 'a', space, memory }), { name: 'a' });
    expect(await metricsOf(ref)).toMatchObject({ id: 'a', incarnation: 0, patterns: 0, episodesTrained: 0, episodesEvaluated: 0, refused: 0 });

    const series = easySeries(space, 3, 600);
    const [first, second] = episodeStarts(series);
    await train(ref, series, first!);
    const trained = await train(ref, series, second!);
    const evaluated = await ask(ref, (replyTo: ActorRef<EpisodeReply>) => ({ type: 'evaluate', series, start: first!, replyTo }), ASK_MS);
    await train(ref, easySeries(otherSpace, 3, 600), first!);
    const metrics = await metricsOf(ref);

    expect(trained.ok && evaluated.ok).toBe(true);
    expect(metrics).toMatchObject({
      id: 'a',
      incarnation: 0,
      patterns: memory.count(),
      episodesTrained: 2,
      episodesEvaluated: 1,
      refused: 1,
      lastTrainAccuracy: trained.ok ? trained.result.accuracy : undefined,
      lastEvalAccuracy: evaluated.ok ? evaluated.result.accuracy : undefined,
    });
    expect(metrics.patterns).toBeGreaterThan(0);
    expect(metrics.bytesUsed.patterns).toBeGreaterThan(0);
  });

  it('answers predictions from what it has learned', async () => {
    const rt = fixture.runtime();
    const memory = await fixture.memory(space);
    const ref = rt.spawn(rt.root, agent({ id: 'a', space, memory }), { name: 'a' });
    const series = easySeries(space, 4, 800);
    await trainAll(ref, series);
    const reference = await PatternLearner.open({ space, memory, agentId: 'a' });
    const vectors = series.features.filter((f): f is Float32Array => f !== undefined).slice(-50);
    for (const features of vectors) {
      const reply = await ask(ref, (replyTo: ActorRef<PredictReply>) => ({ type: 'predict', features, replyTo }), ASK_MS);
      expect(reply).toEqual({ ok: true, prediction: reference.predict(features) });
    }
    reference.close();
  });

  it('passes its knowledge on in a bundle: an agent that imports it predicts the same', async () => {
    const rt = fixture.runtime();
    const teacher = rt.spawn(rt.root, agent({ id: 'teacher', space, memory: await fixture.memory(space) }), { name: 'teacher' });
    const student = rt.spawn(rt.root, agent({ id: 'student', space, memory: await fixture.memory(space) }), { name: 'student' });
    await trainAll(teacher, easySeries(space, 5, 1_500));
    const held = easySeries(space, 6, 800);

    const exported = await ask(teacher, (replyTo: ActorRef<ExportReply>) => ({ type: 'export', replyTo }), ASK_MS);
    if (!exported.ok) throw new Error(exported.error.message);
    const imported = await ask(student, (replyTo: ActorRef<ImportReply>) => ({ type: 'import', bundle: exported.bundle, mode: 'full', replyTo }), ASK_MS);

    expect(imported).toMatchObject({ ok: true, skipped: [] });
    expect(imported.ok && imported.imported.length).toBe((await metricsOf(teacher)).patterns);
    const taught = await evaluateAll(student, held);
    expect(taught.results).toEqual((await evaluateAll(teacher, held)).results);
    expect(taught.accuracy).toBeGreaterThan(0.6);
  });

  it('mirrors another agent: an import can also remove the ids that agent no longer holds, and the learner forgets them', async () => {
    const rt = fixture.runtime();
    const teacher = rt.spawn(rt.root, agent({ id: 'teacher', space, memory: await fixture.memory(space) }), { name: 'teacher' });
    const mirrorMemory = await fixture.memory(space);
    const mirror = rt.spawn(rt.root, agent({ id: 'mirror', space, memory: mirrorMemory }), { name: 'mirror' });
    await trainAll(teacher, easySeries(space, 5, 800));
    const exported = await ask(teacher, (replyTo: ActorRef<ExportReply>) => ({ type: 'export', replyTo }), ASK_MS);
    if (!exported.ok) throw new Error(exported.error.message);
    const first = await ask(mirror, (replyTo: ActorRef<ImportReply>) => ({ type: 'import', bundle: exported.bundle, mode: 'full', replyTo }), ASK_MS);
    if (!first.ok) throw new Error(first.error.message);
    const gone = first.imported.slice(0, 3);

    const empty = encodeBundle([], { featureSpaceId: space.id, dimensions: space.dimensions });
    const reply = await ask(mirror, (replyTo: ActorRef<ImportReply>) => ({ type: 'import', bundle: empty, mode: 'full', remove: [...gone, 'never-there'], replyTo }), ASK_MS);

    expect(reply).toMatchObject({ ok: true, imported: [], removed: gone });
    expect(patternIds(mirrorMemory)).toEqual(first.imported.filter((id) => !gone.includes(id)).sort());
    expect(await metricsOf(mirror)).toMatchObject({ patterns: first.imported.length - 3 });
    const bad = await ask(mirror, (replyTo: ActorRef<ImportReply>) => ({ type: 'import', bundle: exported.bundle, mode: 'full', remove: [42] as unknown as string[], replyTo }), ASK_MS);
    expect(bad).toMatchObject({ ok: false, error: { code: 'INVALID_OPTION' } });
    expect(patternIds(mirrorMemory)).toEqual(first.imported.filter((id) => !gone.includes(id)).sort());
  });

  it('lists the ids it holds page by page, in id order, and refuses a bad page', async () => {
    const rt = fixture.runtime();
    const memory = await fixture.memory(space);
    const learner = rt.spawn(rt.root, agent({ id: 'lister', space, memory }), { name: 'lister' });
    await trainAll(learner, easySeries(space, 5, 800));
    const all = patternIds(memory);
    expect(all.length).toBeGreaterThan(10);
    const idsPage = (after: string | undefined, limit: number | undefined) =>
      ask(learner, (replyTo: ActorRef<IdsReply>) => ({ type: 'ids', ...(after === undefined ? {} : { after }), ...(limit === undefined ? {} : { limit }), replyTo }), ASK_MS);

    const paged: string[] = [];
    for (;;) {
      const page = await idsPage(paged.at(-1), 7);
      if (!page.ok) throw new Error(page.error.message);
      expect(page.ids.length).toBeLessThanOrEqual(7);
      paged.push(...page.ids);
      if (!page.more) break;
    }
    expect(paged).toEqual(all);
    expect(await idsPage(undefined, undefined)).toEqual({ ok: true, ids: all, more: false });
    expect(await idsPage(all.at(-1), 5)).toEqual({ ok: true, ids: [], more: false });
    expect(await idsPage(undefined, 0)).toMatchObject({ ok: false, error: { code: 'INVALID_OPTION' } });
    expect(await idsPage(7 as unknown as string, 5)).toMatchObject({ ok: false, error: { code: 'INVALID_OPTION' } });
  });

  it('imports selectively: only the patterns the selection matches', async () => {
    const rt = fixture.runtime();
    const teacher = rt.spawn(rt.root, agent({ id: 'teacher', space, memory: await fixture.memory(space) }), { name: 'teacher' });
    const studentMemory = await fixture.memory(space);
    const student = rt.spawn(rt.root, agent({ id: 'student', space, memory: studentMemory }), { name: 'student' });
    await trainAll(teacher, easySeries(space, 7, 800));
    const exported = await ask(teacher, (replyTo: ActorRef<ExportReply>) => ({ type: 'export', replyTo }), ASK_MS);
    if (!exported.ok) throw new Error(exported.error.message);

    const select = { minConfidence: 0.6 };
    const reply = await ask(student, (replyTo: ActorRef<ImportReply>) => ({ type: 'import', bundle: exported.bundle, mode: 'selective', select, replyTo }), ASK_MS);

    if (!reply.ok) throw new Error(reply.error.message);
    expect(reply.imported.length).toBeGreaterThan(0);
    expect(reply.skipped.length).toBeGreaterThan(0);
    expect([...studentMemory.iterate()].every((p) => p.confidence >= 0.6)).toBe(true);
    expect(patternIds(studentMemory)).toEqual([...reply.imported].sort());
  });

  it('refuses a corrupt bundle and a bundle of another feature space, leaving its memory as it was', async () => {
    const rt = fixture.runtime();
    const memory = await fixture.memory(space);
    const ref = rt.spawn(rt.root, agent({ id: 'a', space, memory }), { name: 'a' });
    const foreign = rt.spawn(rt.root, agent({ id: 'f', space: otherSpace, memory: await fixture.memory(otherSpace) }), { name: 'f' });
    await trainAll(ref, easySeries(space, 8, 600));
    await trainAll(foreign, easySeries(otherSpace, 8, 600));
    const own = await ask(ref, (replyTo: ActorRef<ExportReply>) => ({ type: 'export', replyTo }), ASK_MS);
    const other = await ask(foreign, (replyTo: ActorRef<ExportReply>) => ({ type: 'export', replyTo }), ASK_MS);
    if (!own.ok || !other.ok) throw new Error('export refused');
    const corrupt = Uint8Array.from(own.bundle);
    corrupt[corrupt.length - 100] = corrupt[corrupt.length - 100]! ^ 0xff;
    const truncated = own.bundle.slice(0, own.bundle.length / 2);
    const held = easySeries(space, 9, 600);
    const before = { ids: patternIds(memory), seq: memory.lastSeq(), results: (await evaluateAll(ref, held)).results };

    const importing = (bundle: Uint8Array) =>
      ask(ref, (replyTo: ActorRef<ImportReply>) => ({ type: 'import', bundle, mode: 'full', replyTo }), ASK_MS);
    expect(await importing(corrupt)).toMatchObject({ ok: false, error: { code: 'BUNDLE_CHECKSUM' } });
    expect(await importing(truncated)).toMatchObject({ ok: false, error: { code: 'BUNDLE_DECODE' } });
    expect(await importing(other.bundle)).toMatchObject({ ok: false, error: { code: 'BUNDLE_FEATURE_SPACE' } });

    expect({ ids: patternIds(memory), seq: memory.lastSeq(), results: (await evaluateAll(ref, held)).results }).toEqual(before);
    expect(rt.metricsOf(ref)).toMatchObject({ failed: 0, restarts: 0 });
    expect(await metricsOf(ref)).toMatchObject({ refused: 3 });
  });

  it('refuses feature vectors of another size without learning from them, and keeps working', async () => {
    const rt = fixture.runtime();
    const memory = await fixture.memory(space);
    const ref = rt.spawn(rt.root, agent({ id: 'a', space, memory }), { name: 'a' });
    const foreign = easySeries(otherSpace, 10, 600);
    const seq = memory.lastSeq();

    const trained = await train(ref, foreign, episodeStarts(foreign)[0]!);
    const evaluated = await ask(ref, (replyTo: ActorRef<EpisodeReply>) => ({ type: 'evaluate', series: foreign, start: 100, replyTo }), ASK_MS);
    const features = new Float32Array(otherSpace.dimensions);
    const predicted = await ask(ref, (replyTo: ActorRef<PredictReply>) => ({ type: 'predict', features, replyTo }), ASK_MS);

    for (const reply of [trained, evaluated, predicted]) expect(reply).toMatchObject({ ok: false, error: { code: 'FEATURE_DIMENSIONS' } });
    expect(memory.lastSeq()).toBe(seq);
    const series = easySeries(space, 10, 600);
    expect(await train(ref, series, episodeStarts(series)[0]!)).toMatchObject({ ok: true });
    expect(rt.metricsOf(ref)).toMatchObject({ failed: 0, restarts: 0 });
  });

  it('refuses episode options out of range', async () => {
    const rt = fixture.runtime();
    const ref = rt.spawn(rt.root, agent({ id: 'a', space, memory: await fixture.memory(space) }), { name: 'a' });
    const series = easySeries(space, 11, 300);
    const short = await ask(ref, (replyTo: ActorRef<EpisodeReply>) => ({ type: 'train', series, start: 100, length: 1, replyTo }), ASK_MS);
    const outside = await train(ref, series, 290);
    expect(short).toMatchObject({ ok: false, error: { code: 'EPISODE_OPTIONS' } });
    expect(outside).toMatchObject({ ok: false, error: { code: 'MARKET_OPTIONS' } });
    expect(rt.metricsOf(ref)).toMatchObject({ failed: 0 });
  });

  it('consolidates and distils on request, then votes with the memory as maintained', async () => {
    const rt = fixture.runtime();
    const memory = await fixture.memory(space);
    const ref = rt.spawn(rt.root, agent({ id: 'a', space, memory }), { name: 'a' });
    await trainAll(ref, easySeries(space, 12, 1_500));
    const before = memory.count();

    const reply = await ask(
      ref,
      (replyTo: ActorRef<MaintainReply>) => ({
        type: 'maintain',
        consolidate: { criterion: { topFraction: 0.2 } },
        distill: { similarity: 0.95, minSupport: 2, minConfidence: 0.5 },
        replyTo,
      }),
      ASK_MS,
    );

    if (!reply.ok) throw new Error(reply.error.message);
    expect(reply.consolidated?.consolidated.length).toBe(Math.ceil(0.2 * before));
    expect(reply.distilled?.patternsAfter).toBe(memory.count());
    expect(memory.count()).toBeLessThan(before);
    const held = easySeries(space, 13, 600);
    const reference = await PatternLearner.open({ space, memory, agentId: 'a' });
    const expected = await Promise.all(episodeStarts(held).map((start) => runEpisode(reference, held, { start, mode: 'eval' })));
    reference.close();
    expect((await evaluateAll(ref, held)).results).toEqual(expected);
  });

  it('refuses maintenance options out of range before writing anything', async () => {
    const rt = fixture.runtime();
    const memory = await fixture.memory(space);
    const ref = rt.spawn(rt.root, agent({ id: 'a', space, memory }), { name: 'a' });
    await trainAll(ref, easySeries(space, 14, 600));
    const seq = memory.lastSeq();

    const reply = await ask(
      ref,
      (replyTo: ActorRef<MaintainReply>) => ({
        type: 'maintain',
        consolidate: { criterion: { topFraction: 0.2 } },
        distill: { similarity: 1.5, minSupport: 2, minConfidence: 0.5 },
        replyTo,
      }),
      ASK_MS,
    );

    expect(reply).toMatchObject({ ok: false, error: { code: 'INVALID_OPTION' } });
    expect(memory.lastSeq()).toBe(seq);
  });

  it('runs a learner of the caller’s over its memory', async () => {
    const rt = fixture.runtime();
    const memory = await fixture.memory(space);
    const seen: number[] = [];
    const learner = async (): Promise<Learner> => ({
      featureSpaceId: space.id,
      predict: () => ({ direction: 1, confidence: 1, position: 'long' }),
      learn: (features) => (seen.push(features.length), { created: [], updated: [] }),
      exportPatterns: () => [],
    });
    const ref = rt.spawn(rt.root, agent({ id: 'a', space, memory, learner }), { name: 'a' });
    const series = easySeries(space, 15, 300);

    const reply = await train(ref, series, episodeStarts(series)[0]!);

    if (!reply.ok) throw new Error(reply.error.message);
    expect(seen.length).toBe(reply.result.steps);
    expect(reply.result.decided).toBeGreaterThan(0);
  });

  it('refuses at once to be built over a memory of another feature space', async () => {
    const memory = await fixture.memory(otherSpace);
    expect(() => agent({ id: 'a', space, memory })).toThrow(AgentOptionsError);
    expect(() => agent({ id: '', space, memory: { path: fixture.dir() } })).toThrow(AgentOptionsError);
  });
});
