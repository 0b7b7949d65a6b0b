import { describe, expect, it, vi } from 'vitest';
import { computeFeatures, featureSpace } from '../../src/learning/features.js';
import { LearnerConfigError, PatternLearner } from '../../src/learning/learner.js';
import { useLearningFixture } from './support.js';

const space = featureSpace();
const fixture = useLearningFixture();

/** A feature vector with `values` at the given components and the anchor set. */
function vector(values: Record<number, number>): Float32Array {
  const v = new Float32Array(space.dimensions);
  for (const [j, x] of Object.entries(values)) v[Number(j)] = x;
  v[space.dimensions - 1] = 1;
  return v;
}

function distance(a: Float32Array, b: Float32Array): number {
  return Math.sqrt(a.reduce((sum, x, j) => sum + (x - b[j]!) ** 2, 0));
}

describe('PatternLearner options', () => {
  it('accepts a learning rate in (0, 1] and refuses anything else with a typed error', async () => {
    for (const learningRate of [0, -0.01, 1.5, Number.NaN]) {
      await expect(PatternLearner.open({ space, learningRate })).rejects.toMatchObject({ code: 'LEARNER_CONFIG', option: 'learningRate' });
    }
    await expect(PatternLearner.open({ space, learningRate: 2 })).rejects.toBeInstanceOf(LearnerConfigError);
    expect((await PatternLearner.open({ space, learningRate: 1 })).learningRate).toBe(1);
  });

  it('refuses a memory of another feature space', async () => {
    const other = featureSpace({ rsiPeriod: 10 });
    const memory = await fixture.memory(other);
    await expect(PatternLearner.open({ space, memory })).rejects.toMatchObject({ code: 'LEARNER_FEATURE_SPACE' });
  });
});

describe('PatternLearner', () => {
  it('stays flat with no patterns, and creates one when nothing similar exists', async () => {
    const learner = await PatternLearner.open({ space });
    const x = vector({ 0: 2, 4: 2 });
    expect(learner.predict(x)).toEqual({ direction: 0, confidence: 0, position: 'flat' });
    const first = learner.learn(x, 1);
    expect(first.created).toHaveLength(1);
    expect(first.updated).toEqual([]);
    expect(learner.predict(x)).toMatchObject({ direction: 1, position: 'long' });
    const far = learner.learn(vector({ 0: -2, 4: -2 }), -1);
    expect(far.created).toHaveLength(1);
    expect(learner.size).toBe(2);
  });

  it('updates the nearest pattern when it is similar, and adds the other outcome beside it when that is missing', async () => {
    const learner = await PatternLearner.open({ space });
    const x = vector({ 0: 2, 4: 2 });
    const [id] = learner.learn(x, 1).created;
    const again = learner.learn(vector({ 0: 2.1, 4: 2 }), 1);
    expect(again).toEqual({ created: [], updated: [id] });
    const contrary = learner.learn(x, -1);
    expect(contrary.updated).toEqual([id]);
    expect(contrary.created).toHaveLength(1);
    const exported = learner.exportPatterns();
    expect(exported.map((p) => p.outcome).sort()).toEqual(['down', 'up']);
    const up = exported.find((p) => p.id === id)!;
    expect(up).toMatchObject({ support: 3, successes: 2, featureSpaceId: space.id });
    expect(up.confidence).toBeCloseTo(3 / 5, 6);
  });

  it('does not learn from a flat outcome', async () => {
    const learner = await PatternLearner.open({ space });
    expect(learner.learn(vector({ 0: 1 }), 0)).toEqual({ created: [], updated: [] });
    expect(learner.size).toBe(0);
  });

  it('moves a consolidated pattern less than a non-consolidated one under the same update', async () => {
    const memory = await fixture.memory(space);
    const base = { outcome: 'up' as const, confidence: 0.8, support: 200, successes: 160, origin: 'seed' };
    await memory.upsertMany([
      { ...base, id: 'free', embedding: vector({ 0: 2 }) },
      { ...base, id: 'held', embedding: vector({ 1: 2 }) },
    ]);
    await memory.consolidate(['held']);
    const learner = await PatternLearner.open({ space, memory, learningRate: 0.05 });
    learner.learn(vector({ 0: 2, 5: 0.5 }), 1);
    learner.learn(vector({ 1: 2, 5: 0.5 }), 1);
    const moved = (id: string, from: Float32Array) => distance(learner.exportPatterns().find((p) => p.id === id)!.embedding, from);
    const free = moved('free', vector({ 0: 2 }));
    const held = moved('held', vector({ 1: 2 }));
    expect(free).toBeCloseTo(0.05 * 0.5, 5);
    expect(held).toBeCloseTo(0.1 * free, 5);
  });

  it('writes nothing until commit, then every changed pattern with its market-condition labels; a reopened learner predicts the same', async () => {
    const memory = await fixture.memory(space);
    const learner = await PatternLearner.open({ space, memory, agentId: 'agent-7' });
    const trend = vector({ 0: 1, 4: 2.5 });
    const range = vector({ 0: -1.5, 4: 0.2, 6: 1.8 });
    learner.learn(trend, 1);
    learner.learn(range, 1);
    expect(memory.count()).toBe(0);
    expect(learner.pending).toBe(2);
    await learner.commit();
    expect(learner.pending).toBe(0);
    expect(memory.count()).toBe(2);
    const stored = [...memory.iterate()];
    const byCondition = Object.fromEntries(stored.map((p) => [p.condition, p]));
    expect(byCondition['trending']?.tags).toEqual(['trending', 'bullish_continuation']);
    expect(byCondition['ranging']?.tags).toEqual(['ranging', 'bullish_reversal']);
    expect(stored.every((p) => p.origin === 'agent-7' && p.featureSpaceId === space.id)).toBe(true);
    const reopened = await PatternLearner.open({ space, memory });
    expect(reopened.size).toBe(2);
    expect(reopened.predict(trend)).toEqual(learner.predict(trend));
  });
});

describe('PatternLearner and embeddings without a direction', () => {
  it('learns and commits on a perfectly flat market, whose features are zero but for the anchor', async () => {
    const flat = Array.from({ length: space.lookback + 5 }, (_, i) => ({ time: i * 86_400_000, open: 100, high: 100, low: 100, close: 100, volume: 1_000 }));
    const features = computeFeatures(flat, space).filter((v): v is Float32Array => v !== undefined);
    expect(features.length).toBeGreaterThan(0);
    const memory = await fixture.memory(space);
    const learner = await PatternLearner.open({ space, memory });
    for (const v of features) {
      expect(v.some((x) => x !== 0)).toBe(true);
      learner.learn(v, 1);
    }
    await learner.commit();
    expect(memory.count()).toBe(1);
    expect(learner.predict(features[0]!).position).toBe('long');
  });

  it('opens a memory holding an all-zero pattern stored before memories refused it, leaving it out with a counted warning', async () => {
    const memory = await fixture.memory(space);
    const at = 1_700_000_000_000;
    const old = (id: string, embedding: Float32Array) => ({
      id,
      embedding,
      outcome: 'up' as const,
      confidence: 0.8,
      support: 5,
      successes: 4,
      version: 1,
      origin: 'old-peer',
      featureSpaceId: space.id,
      tags: [],
      consolidated: false,
      plasticity: 1,
      createdAt: at,
      updatedAt: at,
    });
    await memory.restore({
      events: [
        { type: 'import', seq: 1, at, source: 'old-peer', pattern: old('zero', new Float32Array(space.dimensions)) },
        { type: 'import', seq: 2, at, source: 'old-peer', pattern: old('trend', vector({ 0: 1, 4: 2.5 })) },
      ],
    });
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    try {
      const learner = await PatternLearner.open({ space, memory });
      expect(learner.size).toBe(1);
      expect(learner.ignored).toBe(1);
      expect(learner.exportPatterns().map((p) => p.id)).toEqual(['trend']);
      expect(learner.predict(vector({ 0: 1, 4: 2.5 })).position).toBe('long');
      expect(warn).toHaveBeenCalledWith(expect.stringMatching(/ignored 1 pattern\(s\) .* all-zero embedding/), { code: 'SWARMBANK_ZERO_EMBEDDING' });
      learner.close();
    } finally {
      warn.mockRestore();
    }
  });
});
