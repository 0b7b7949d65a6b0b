import { describe, expect, it } from 'vitest';
import { featureSpace } from '../../src/learning/features.js';
import { LearnerConfigError, PatternLearner } from '../../src/learning/learner.js';

const space = featureSpace();

/** A feature vector with `values` at the given components and the anchor set. */
function vector(values: Record<number, number>): Float32Array {
  const v = new Float32Array(space.dimensions);
  for (const [j, x] of Object.entries(values)) v[Number(j)] = x;
  v[space.dimensions - 1] = 1;
  return v;
}

const x = vector({ 0: 2, 4: 1 });

/** One pattern at x, right `times` times: mature enough that its step is the learning rate, not 1 / (support + 2). */
function matured(learner: PatternLearner, times = 200): void {
  for (let i = 0; i < times; i++) learner.learn(x, 1);
}

const confidenceOf = (learner: PatternLearner) => learner.exportPatterns().find((p) => p.outcome === 'up')!.confidence;

describe('PatternLearner.setLearningRate', () => {
  it('gives the updates that follow the step the option would have given', async () => {
    const set = await PatternLearner.open({ space, learningRate: 0.01 });
    set.setLearningRate(0.05);
    const opened = await PatternLearner.open({ space, learningRate: 0.05 });
    for (const learner of [set, opened]) {
      matured(learner, 50);
      learner.learn(x, -1);
    }
    expect(set.learningRate).toBe(0.05);
    expect(set.exportPatterns()).toEqual(opened.exportPatterns());
    set.close();
    opened.close();
  });

  it('leaves what is learned as it is, and moves a mature pattern by the new rate from then on', async () => {
    const learner = await PatternLearner.open({ space, learningRate: 0.01 });
    matured(learner);
    const before = learner.exportPatterns();
    learner.setLearningRate(0.05);
    expect(learner.exportPatterns()).toEqual(before);
    const confidence = confidenceOf(learner);
    learner.learn(x, -1);
    // Wrong: confidence moves toward 0 by the step, here the new rate.
    expect(confidenceOf(learner)).toBeCloseTo(confidence - 0.05 * confidence, 6);
    learner.close();
  });

  it('refuses a rate outside (0, 1] with the option error and keeps the rate it had', async () => {
    const learner = await PatternLearner.open({ space, learningRate: 0.02 });
    for (const rate of [0, -0.01, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => learner.setLearningRate(rate)).toThrow(LearnerConfigError);
      try {
        learner.setLearningRate(rate);
      } catch (error) {
        expect(error).toMatchObject({ code: 'LEARNER_CONFIG', option: 'learningRate' });
      }
    }
    expect(learner.learningRate).toBe(0.02);
    learner.setLearningRate(1);
    expect(learner.learningRate).toBe(1);
    learner.close();
  });
});
