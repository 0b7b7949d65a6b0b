import { describe, expect, it } from 'vitest';
import { computeFeatures, featureSpace, type FeatureSpace } from '../../src/learning/features.js';
import { PatternLearner, type Learner, type Prediction } from '../../src/learning/learner.js';
import { buyAndHold } from '../../src/learning/trading.js';
import { walkForward, type WalkForwardOptions, type WalkForwardResult } from '../../src/learning/walk-forward.js';
import type { Bar } from '../../src/market/bars.js';
import { outcomeDirection, type Direction } from '../../src/market/outcomes.js';
import { loadSp500 } from '../../src/market/sp500.js';
import { TASK_A } from '../../src/market/tasks.js';
import { createRandom } from '../../src/random.js';
import { randomWalk, simulatedAsset } from './support.js';

const space = featureSpace();
/** Shorter than the defaults, so a run takes a fraction of a second. */
const small = { trainWindow: 500, testBlock: 100 } as const;

const UP: Prediction = { direction: 1, confidence: 1, position: 'long' };
const DOWN: Prediction = { direction: -1, confidence: 1, position: 'short' };
const FLAT: Prediction = { direction: 0, confidence: 0, position: 'flat' };

/** A learner that learns nothing and answers from a script of the calls made to it. */
function scripted(call: (n: number) => Prediction): (s: FeatureSpace) => Learner {
  return (s) => {
    let n = 0;
    return { featureSpaceId: s.id, predict: () => call(n++), learn: () => ({ created: [], updated: [] }), exportPatterns: () => [] };
  };
}

/** What one block's learner was shown, in order. */
interface Seen {
  readonly calls: ({ kind: 'learn'; step: number; features: Float32Array; outcome: Direction } | { kind: 'predict'; features: Float32Array; prediction: Prediction })[];
}

/** The default learner, with everything shown to it recorded per block. */
function recording(seen: Seen[]): (s: FeatureSpace) => Promise<Learner> {
  return async (s) => {
    const inner = await PatternLearner.open({ space: s });
    const record: Seen = { calls: [] };
    seen.push(record);
    return {
      featureSpaceId: inner.featureSpaceId,
      learn: (features, outcome, context) => {
        record.calls.push({ kind: 'learn', step: context!.step!, features: Float32Array.from(features), outcome });
        return inner.learn(features, outcome);
      },
      predict: (features) => {
        const prediction = inner.predict(features);
        record.calls.push({ kind: 'predict', features: Float32Array.from(features), prediction });
        return prediction;
      },
      exportPatterns: () => inner.exportPatterns(),
    };
  };
}

/** The default learner taught a fair coin flip in place of every outcome that moved. */
function coinFlipLabels(seed: number): (s: FeatureSpace) => Promise<Learner> {
  const random = createRandom(seed);
  return async (s) => {
    const inner = await PatternLearner.open({ space: s });
    return {
      featureSpaceId: inner.featureSpaceId,
      learn: (features, outcome) => inner.learn(features, outcome === 0 ? 0 : random.next() < 0.5 ? 1 : -1),
      predict: (features) => inner.predict(features),
      exportPatterns: () => inner.exportPatterns(),
    };
  };
}

function trending(seed: number, length: number): readonly Bar[] {
  return simulatedAsset({ seed, length, ...TASK_A }).bars;
}

/** Within each block the best constant call in hindsight beats every other constant call; a sum over blocks keeps that. */
function expectPeekBoundsConstants(result: WalkForwardResult): void {
  for (const scores of [...result.blocks, result.overall]) {
    expect(scores.majorityPeek.correct).toBeGreaterThanOrEqual(scores.majorityTrain.correct);
    expect(scores.majorityPeek.correct).toBeGreaterThanOrEqual(scores.alwaysLong.correct);
  }
}

describe('walkForward accuracy', () => {
  it('stays within binomial chance bounds on a pure random walk, as do the baselines', async () => {
    const result = await walkForward(randomWalk(7, 6_000), small);
    const { overall } = result;
    expect(result.blocks).toHaveLength(54);
    expect(overall.decided).toBeGreaterThan(1_500);
    // No feature carries information about the next return of a random walk,
    // so each decided call is right with probability 1/2 whatever came before
    // (a martingale), and correct ~ Binomial(decided, 1/2): standard
    // deviation 0.5 / √decided, about 0.011 here. Four of them fail a
    // skill-free learner with probability 6e-5.
    const bound = (decided: number) => 4 * (0.5 / Math.sqrt(decided));
    expect(Math.abs(overall.accuracy - 0.5)).toBeLessThanOrEqual(bound(overall.decided));
    expect(Math.abs(overall.alwaysLong.accuracy - 0.5)).toBeLessThanOrEqual(bound(overall.alwaysLong.decided));
    expect(Math.abs(overall.majorityTrain.accuracy - 0.5)).toBeLessThanOrEqual(bound(overall.majorityTrain.decided));
    expectPeekBoundsConstants(result);
  });

  it('clearly beats always-long and majority(train) on a simulated trending market', async () => {
    const result = await walkForward(trending(1, 3_000), small);
    const { overall } = result;
    expect(overall.decided).toBeGreaterThan(1_000);
    expect(overall.accuracy).toBeGreaterThan(0.8);
    expect(overall.accuracy).toBeGreaterThan(overall.alwaysLong.accuracy + 0.2);
    expect(overall.accuracy).toBeGreaterThan(overall.majorityTrain.accuracy + 0.2);
    expect(result.trading.strategy.sharpe).toBeGreaterThan(result.trading.buyAndHold.sharpe);
    expectPeekBoundsConstants(result);
  });

  it('collapses to chance when the learner is taught coin flips instead of the outcomes', async () => {
    // Coin flips rather than a shuffle: a shuffle keeps the window's share of
    // up moves, and in a trending market the trend at the end of the window
    // runs on into the block, so a shuffled learner keeps a real, leak-free edge.
    // A learner taught coin flips is a random function of momentum-laden
    // features, so one block's accuracy swings widely (standard deviation
    // ≈ 0.3 seen); the mean of 54 blocks × 3 seeds has 0.3 / √162 ≈ 0.025,
    // and ±0.08 is three of those, while the true outcomes give > 0.8.
    const bars = trending(1, 6_000);
    expect((await walkForward(bars, small)).overall.accuracy).toBeGreaterThan(0.8);
    const accuracies: number[] = [];
    for (const seed of [1, 2, 3]) accuracies.push((await walkForward(bars, { ...small, learner: coinFlipLabels(seed) })).overall.accuracy);
    const mean = accuracies.reduce((a, b) => a + b, 0) / accuracies.length;
    expect(mean).toBeGreaterThanOrEqual(0.42);
    expect(mean).toBeLessThanOrEqual(0.58);
  });

  it('scores a learner that always says up exactly as always-long, and trades it exactly as buy-and-hold', async () => {
    const bars = trending(3, 1_500);
    const result = await walkForward(bars, { ...small, learner: scripted(() => UP), costBps: 5 });
    expect(result.overall).toMatchObject({ decided: result.overall.alwaysLong.decided, correct: result.overall.alwaysLong.correct });
    expect(result.trading.strategy).toEqual(result.trading.buyAndHold);
  });
});

describe('walkForward without look-ahead', () => {
  it('trains each block only on steps whose outcome closes before the block, then predicts with learning off', async () => {
    const bars = randomWalk(3, 1_500);
    const horizon = 3;
    const seen: Seen[] = [];
    const result = await walkForward(bars, { trainWindow: 300, testBlock: 99, horizon, learner: recording(seen) });
    expect(seen).toHaveLength(result.blocks.length);
    result.blocks.forEach((block, b) => {
      const t = block.test.start;
      const calls = seen[b]!.calls;
      const learned = calls.flatMap((c) => (c.kind === 'learn' ? [c] : []));
      const predicted = calls.flatMap((c) => (c.kind === 'predict' ? [c] : []));
      expect(block.train).toEqual({ start: t - 300, end: t });
      expect(learned.map((c) => c.step)).toEqual(Array.from({ length: 300 - horizon }, (_, j) => t - 300 + j));
      expect(calls.slice(0, learned.length).every((c) => c.kind === 'learn')).toBe(true);
      // What the learner was taught is computable from the bars before t alone.
      const past = bars.slice(0, t);
      const pastFeatures = computeFeatures(past, space);
      for (const c of learned) {
        expect(c.features).toEqual(pastFeatures[c.step]);
        expect(c.outcome).toBe(outcomeDirection(past, c.step, horizon));
      }
      expect(predicted).toHaveLength(99);
    });
  });

  it('gives a block the same predictions and scores when every bar after its outcomes is replaced', async () => {
    const bars = trending(5, 3_000);
    const cut = 2_000;
    // A different market from the cut on, continuing from the last close kept.
    const scale = bars[cut - 1]!.close / 100;
    const tail = randomWalk(11, bars.length - cut).map((b, j) => ({
      ...b,
      time: bars[cut - 1]!.time + (j + 1) * 86_400_000,
      open: b.open * scale,
      high: b.high * scale,
      low: b.low * scale,
      close: b.close * scale,
    }));
    const changed = [...bars.slice(0, cut), ...tail];
    const run = async (series: readonly Bar[]) => {
      const seen: Seen[] = [];
      const result = await walkForward(series, { ...small, learner: recording(seen) });
      return { result, predictions: seen.map((s) => s.calls.flatMap((c) => (c.kind === 'predict' ? [c.prediction] : []))) };
    };
    const original = await run(bars);
    const replaced = await run(changed);
    const before = original.result.blocks.filter((block) => block.test.end + 1 <= cut);
    expect(before.length).toBeGreaterThan(5);
    for (const block of before) {
      expect(replaced.result.blocks[block.index]).toEqual(block);
      expect(replaced.predictions[block.index]).toEqual(original.predictions[block.index]);
    }
    // The replacement does reach the run: the blocks after the cut differ.
    expect(replaced.result.blocks.slice(before.length)).not.toEqual(original.result.blocks.slice(before.length));
  });
});

describe('walkForward blocks and trading', () => {
  it('lays out rolling windows and contiguous blocks from the end of the feature warm-up, leaving out a last partial block', async () => {
    const bars = randomWalk(1, 1_234);
    const result = await walkForward(bars, { trainWindow: 400, testBlock: 150, seed: 42 });
    const first = space.lookback - 1 + 400;
    expect(result).toMatchObject({ seed: 42, bars: 1_234, trainWindow: 400, testBlock: 150, step: 150, horizon: 1, costBps: 0, featureSpaceId: space.id });
    expect(result.blocks.map((b) => b.test)).toEqual(
      Array.from({ length: Math.floor((1_234 - 1 - first) / 150) }, (_, b) => ({ start: first + 150 * b, end: first + 150 * (b + 1) })),
    );
    expect(result.blocks.every((b) => b.train.end === b.test.start && b.train.end - b.train.start === 400)).toBe(true);
    expect(result.blocks[0]!.firstTime).toBe(bars[first]!.time);
    expect(result.overall.steps).toBe(150 * result.blocks.length);
    expect(result.trading.span).toEqual({ start: first, end: first + 150 * result.blocks.length + 1 });
  });

  it('trades one call every horizon bars and holds it for the horizon', async () => {
    // Calls alternate up, down, up…; with horizon 2 only the calls at even
    // offsets are traded, all of them up, so the strategy is buy-and-hold.
    const bars = trending(4, 1_500);
    const result = await walkForward(bars, { ...small, horizon: 2, learner: scripted((n) => (n % 2 === 0 ? UP : DOWN)) });
    expect(result.trading.strategy).toEqual(result.trading.buyAndHold);
    expect(result.trading.buyAndHold).toEqual(summaryOf(buyAndHold(bars.slice(result.trading.span.start, result.trading.span.end))));
  });

  it('holds both accounts flat between blocks spaced wider than a block', async () => {
    const bars = trending(6, 2_000);
    const result = await walkForward(bars, { ...small, step: 250, learner: scripted(() => UP) });
    const blocks = result.blocks;
    expect(blocks[1]!.test.start - blocks[0]!.test.start).toBe(250);
    const tested = blocks.reduce((equity, b) => equity * (bars[b.test.end]!.close / bars[b.test.start]!.close), 1);
    expect(result.trading.buyAndHold.equity).toBeCloseTo(tested, 12);
    expect(result.trading.buyAndHold.trades).toBe(2 * blocks.length - 1);
    expect(result.trading.strategy).toEqual(result.trading.buyAndHold);
  });

  it('reports NaN, never an invented number, for a learner that never calls', async () => {
    const result = await walkForward(randomWalk(2, 1_000), { ...small, learner: scripted(() => FLAT) });
    expect(result.overall).toMatchObject({ decided: 0, correct: 0, decidedFraction: 0 });
    expect(result.overall.accuracy).toBeNaN();
    expect(result.trading.strategy).toMatchObject({ equity: 1, trades: 0, maxDrawdown: 0 });
    expect(result.trading.strategy.sharpe).toBeNaN();
  });

  it('charges the cost of every change of position', async () => {
    const bars = trending(2, 1_500);
    const free = await walkForward(bars, small);
    const costly = await walkForward(bars, { ...small, costBps: 10 });
    expect(costly.overall).toEqual(free.overall);
    expect(costly.trading.strategy.trades).toBe(free.trading.strategy.trades);
    expect(costly.trading.strategy.equity).toBeLessThan(free.trading.strategy.equity);
  });
});

describe('walkForward options', () => {
  const bars = randomWalk(9, 800);
  const refused = (options: WalkForwardOptions, option: string, series: readonly Bar[] = bars) =>
    expect(walkForward(series, options)).rejects.toMatchObject({ name: 'WalkForwardOptionsError', code: 'WALK_FORWARD_OPTIONS', option });

  it('refuses each bad option with a typed error that names it', async () => {
    await refused({ trainWindow: space.lookback - 1 }, 'trainWindow');
    await refused({ trainWindow: 300.5 }, 'trainWindow');
    await refused({ trainWindow: 300, testBlock: 0 }, 'testBlock');
    await refused({ trainWindow: 300, testBlock: 50, horizon: 3 }, 'testBlock');
    await refused({ trainWindow: 300, testBlock: 50, step: 49 }, 'step');
    await refused({ trainWindow: 300, horizon: 0 }, 'horizon');
    await refused({ trainWindow: 300, costBps: -1 }, 'costBps');
    await refused({ trainWindow: 300, costBps: Number.NaN }, 'costBps');
    await refused({ trainWindow: 300, seed: 1.5 }, 'seed');
  });

  it('refuses a series too short for one block, saying how many bars it needs', async () => {
    const needed = space.lookback - 1 + 300 + 100 + 1;
    await refused({ trainWindow: 300, testBlock: 100 }, 'bars', bars.slice(0, needed - 1));
    await expect(walkForward(bars.slice(0, needed - 1), { trainWindow: 300, testBlock: 100 })).rejects.toThrow(`needs ${needed}`);
    expect((await walkForward(bars.slice(0, needed), { trainWindow: 300, testBlock: 100 })).blocks).toHaveLength(1);
  });

  it('passes learner options on to the default learner, whose own checks refuse bad ones', async () => {
    await expect(walkForward(bars, { trainWindow: 300, k: 0 })).rejects.toMatchObject({ code: 'LEARNER_CONFIG', option: 'k' });
  });
});

describe('walkForward on the S&P 500 daily series', () => {
  it('runs the defaults end to end with finite figures and the documented layout', async () => {
    const { bars } = await loadSp500();
    const result = await walkForward(bars);
    const first = space.lookback - 1 + 756;
    expect(result.blocks).toHaveLength(Math.floor((bars.length - 1 - first) / 63));
    expect(result.blocks.every((b, i) => b.test.start === first + 63 * i && b.train.start === b.test.start - 756)).toBe(true);
    const { overall, trading } = result;
    expect(overall.decided).toBeGreaterThan(0);
    for (const value of [overall.accuracy, overall.alwaysLong.accuracy, overall.majorityTrain.accuracy, overall.majorityPeek.accuracy, overall.decidedFraction]) {
      expect(value).toBeGreaterThanOrEqual(0);
      expect(value).toBeLessThanOrEqual(1);
    }
    for (const account of [trading.strategy, trading.buyAndHold]) {
      expect(Number.isFinite(account.sharpe)).toBe(true);
      expect(account.equity).toBeGreaterThan(0);
      expect(account.maxDrawdown).toBeGreaterThanOrEqual(0);
      expect(account.maxDrawdown).toBeLessThan(1);
    }
    expect(trading.buyAndHold).toEqual(summaryOf(buyAndHold(bars.slice(trading.span.start, trading.span.end))));
    // With horizon 1 and unit positions a position's hit is a decided call's success.
    expect(trading.strategy.hitRate).toBe(overall.accuracy);
    expectPeekBoundsConstants(result);
  });
});

function summaryOf({ returns: _returns, equityCurve: _equityCurve, ...figures }: ReturnType<typeof buyAndHold>) {
  return figures;
}
