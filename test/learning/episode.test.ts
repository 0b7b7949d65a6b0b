import { describe, expect, it } from 'vitest';
import { episodeStarts, featureSeries, runEpisode, type FeatureSeries } from '../../src/learning/episode.js';
import { featureSpace } from '../../src/learning/features.js';
import { PatternLearner, type Learner } from '../../src/learning/learner.js';
import { oracleAccuracy } from '../../src/market/oracle.js';
import { outcomeDirection, type Direction } from '../../src/market/outcomes.js';
import { TASK_A } from '../../src/market/tasks.js';
import { createRandom } from '../../src/random.js';
import { mirrored, randomWalk, simulatedAsset, useLearningFixture } from './support.js';

const space = featureSpace();
const fixture = useLearningFixture();

/** Momentum market (task A): trends cover most bars and the next bar mostly continues the last ones. */
function easySeries(seed: number, length: number): FeatureSeries {
  const asset = simulatedAsset({ seed, length, ...TASK_A });
  return featureSeries(asset.bars, space, asset.latent);
}

async function train(learner: Learner, series: FeatureSeries): Promise<void> {
  for (const [episode, start] of episodeStarts(series).entries()) await runEpisode(learner, series, { start, mode: 'train', episode });
}

/** Held-out accuracy over every episode of a series, learning off: correct / decided summed over episodes. */
async function evaluate(learner: Learner, series: FeatureSeries) {
  let decided = 0;
  let correct = 0;
  let oracleDecided = 0;
  let oracleCorrect = 0;
  for (const start of episodeStarts(series)) {
    const result = await runEpisode(learner, series, { start, mode: 'eval' });
    decided += result.decided;
    correct += result.correct;
    oracleDecided += result.oracle?.decided ?? 0;
    oracleCorrect += result.oracle?.correct ?? 0;
  }
  return { decided, accuracy: correct / decided, oracle: oracleCorrect / oracleDecided };
}

describe('runEpisode', () => {
  it('scores decided steps only, skips the feature warm-up, and reports the oracle on the same steps', async () => {
    const series = easySeries(11, 200);
    const learner = await PatternLearner.open({ space });
    const result = await runEpisode(learner, series, { start: 0, mode: 'train' });
    expect(result.warmup).toBe(space.lookback - 1);
    expect(result.steps).toBe(63 - result.warmup);
    expect(result.decided).toBeLessThanOrEqual(result.steps);
    expect(result.accuracy).toBe(result.correct / result.decided);
    expect(result.oracle).toEqual(oracleAccuracy({ bars: series.bars, latent: series.latent! }, { start: space.lookback - 1, end: 64 }));
    expect(result.created).toBeGreaterThan(0);
  });

  it('refuses a bad length or mode with a typed error', async () => {
    const series = easySeries(13, 200);
    const learner = await PatternLearner.open({ space });
    await expect(runEpisode(learner, series, { start: 50, length: 1, mode: 'eval' })).rejects.toMatchObject({ code: 'EPISODE_OPTIONS', option: 'length' });
    await expect(runEpisode(learner, series, { start: 50, mode: 'test' as 'eval' })).rejects.toMatchObject({ code: 'EPISODE_OPTIONS', option: 'mode' });
  });

  it('learns nothing in eval mode', async () => {
    const series = easySeries(12, 400);
    const memory = await fixture.memory(space);
    const learner = await PatternLearner.open({ space, memory });
    await runEpisode(learner, series, { start: 100, mode: 'train' });
    const before = learner.exportPatterns();
    const seq = memory.lastSeq();
    const result = await runEpisode(learner, series, { start: 200, mode: 'eval' });
    expect(result).toMatchObject({ created: 0, updated: 0 });
    expect(learner.exportPatterns()).toEqual(before);
    expect(memory.lastSeq()).toBe(seq);
  });
});

describe('learning (held-out evaluation, learning off)', () => {
  it('beats 0.8 on an easy synthetic task, close to the oracle, with every pattern committed to memory', async () => {
    const memory = await fixture.memory(space);
    const learner = await PatternLearner.open({ space, memory });
    await train(learner, easySeries(1, 2_500));
    expect(memory.count()).toBe(learner.size);
    const held = await evaluate(learner, easySeries(2, 1_500));
    expect(held.decided).toBeGreaterThan(1_000);
    expect(held.accuracy).toBeGreaterThan(0.8);
    expect(held.accuracy).toBeLessThanOrEqual(held.oracle + 0.02);
  });

  it('stays at chance, within 0.45–0.55, on a pure random walk', async () => {
    const learner = await PatternLearner.open({ space });
    await train(learner, featureSeries(randomWalk(1, 2_500), space));
    const held = await evaluate(learner, featureSeries(randomWalk(2, 3_000), space));
    expect(held.decided).toBeGreaterThan(500);
    expect(held.accuracy).toBeGreaterThanOrEqual(0.45);
    expect(held.accuracy).toBeLessThanOrEqual(0.55);
  });

  it('collapses to chance, within 0.4–0.6, when trained on shuffled outcomes of the easy task', async () => {
    // Each market with its mirror image, so up and down outcomes balance and a
    // predictor that ignores the features scores 0.5 on the held-out pairs.
    const withMirror = (seed: number, length: number): FeatureSeries[] => {
      const { bars } = simulatedAsset({ seed, length, ...TASK_A });
      return [featureSeries(bars, space), featureSeries(mirrored(bars), space)];
    };
    const training = [...withMirror(1, 2_500), ...withMirror(2, 2_500)];
    const held = Array.from({ length: 8 }, (_, j) => withMirror(100 + j, 600)).flat();
    const steps = training.flatMap((series) => series.features.flatMap((f, i) => (f !== undefined && i + 1 < series.bars.length ? [{ series, i }] : [])));
    const outcomes: Direction[] = steps.map(({ series, i }) => outcomeDirection(series.bars, i, 1));
    const heldOut = async (labels: readonly Direction[]) => {
      const learner = await PatternLearner.open({ space });
      steps.forEach(({ series, i }, j) => learner.learn(series.features[i]!, labels[j]!));
      let decided = 0;
      let correct = 0;
      for (const series of held) {
        for (const start of episodeStarts(series)) {
          const result = await runEpisode(learner, series, { start, mode: 'eval' });
          decided += result.decided;
          correct += result.correct;
        }
      }
      return correct / decided;
    };

    expect(await heldOut(outcomes)).toBeGreaterThan(0.85);
    // One shuffled learner is a random function of features that all lean on
    // momentum, so its accuracy alone swings widely around 0.5 (±0.15 seen);
    // the mean over shuffles is what must sit at chance.
    const shuffled: number[] = [];
    for (const seed of [1, 2, 3, 4, 5, 6]) {
      const labels = [...outcomes];
      const random = createRandom(seed);
      for (let j = labels.length - 1; j > 0; j--) {
        const r = random.int(0, j);
        [labels[j], labels[r]] = [labels[r]!, labels[j]!];
      }
      shuffled.push(await heldOut(labels));
    }
    const mean = shuffled.reduce((a, b) => a + b, 0) / shuffled.length;
    expect(mean).toBeGreaterThanOrEqual(0.4);
    expect(mean).toBeLessThanOrEqual(0.6);
  });

  it('gives the same learning curve, bit for bit, from the same seed', async () => {
    const curve = async () => {
      const learner = await PatternLearner.open({ space, memory: await fixture.memory(space) });
      const training = easySeries(21, 800);
      const held = easySeries(22, 400);
      const accuracies: number[] = [];
      for (const start of episodeStarts(training)) {
        await runEpisode(learner, training, { start, mode: 'train' });
        accuracies.push((await evaluate(learner, held)).accuracy);
      }
      return accuracies;
    };
    const first = await curve();
    expect(first.length).toBeGreaterThan(5);
    expect(await curve()).toEqual(first);
  });
});
