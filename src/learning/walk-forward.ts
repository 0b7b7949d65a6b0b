import { SwarmbankError } from '../errors.js';
import { alwaysLongAccuracy, majorityClassAccuracy } from '../market/baselines.js';
import type { Bar } from '../market/bars.js';
import { outcomeDirection, scoredSteps, scorePredictions, type AccuracyReport, type Direction, type EpisodeWindow } from '../market/outcomes.js';
import { computeFeatures, featureSpace, type FeatureSpace } from './features.js';
import { PatternLearner, type Learner, type Prediction } from './learner.js';
import { holdForHorizon, predictionExposure, simulateTrading, type TradingReport, type TradingSummary } from './trading.js';

/** About three years of trading days. */
export const DEFAULT_TRAIN_WINDOW = 756;
/** About a quarter of trading days. */
export const DEFAULT_TEST_BLOCK = 63;

export interface WalkForwardOptions {
  /** Bars of the rolling training window before each test block. Default 756. */
  readonly trainWindow?: number;
  /** Bars predicted per block, learning off. Default 63. */
  readonly testBlock?: number;
  /** Bars from one block's start to the next; at least `testBlock`. Default `testBlock`. */
  readonly step?: number;
  /** Bars ahead whose return sign is predicted. Default 1. */
  readonly horizon?: number;
  /** Default `featureSpace()`. */
  readonly space?: FeatureSpace;
  /** Trading cost per unit of exposure changed, in basis points (see trading.ts). Default 0. */
  readonly costBps?: number;
  /** Recorded in the result so a report names its run; the default learner draws nothing random. Default 1. */
  readonly seed?: number;
  /** Options of the default `PatternLearner`; ignored when `learner` is given. */
  readonly learningRate?: number;
  readonly k?: number;
  readonly similarityThreshold?: number;
  readonly minEdge?: number;
  /** A fresh learner for each block; a `PatternLearner` is closed after its block. Default: an in-memory `PatternLearner` with the options above. */
  readonly learner?: (space: FeatureSpace) => Learner | Promise<Learner>;
}

/** A learner's accuracy beside the baselines, on the same steps. */
export interface WalkForwardScores extends AccuracyReport {
  /** Steps predicted. */
  readonly steps: number;
  /** decided ÷ steps: how often the learner made a call on a bar that moved. */
  readonly decidedFraction: number;
  /** Predicting up at every step. */
  readonly alwaysLong: AccuracyReport;
  /** Predicting, at every step of a block, the majority outcome of that block's training window: a strategy one could have run. */
  readonly majorityTrain: AccuracyReport;
  /** Predicting each block's own majority outcome: it peeks at the answers, so it bounds any constant call from above and is no strategy. */
  readonly majorityPeek: AccuracyReport;
}

export interface WalkForwardBlock extends WalkForwardScores {
  readonly index: number;
  /** Bars of the training window: steps [start, end − horizon) were learned, so no outcome read a bar at or after `end`. */
  readonly train: EpisodeWindow;
  /** Steps predicted, learning off; their outcomes read up to bar end − 1 + horizon. */
  readonly test: EpisodeWindow;
  /** Times of the first and last bar predicted. */
  readonly firstTime: number;
  readonly lastTime: number;
  /** The training window's majority outcome, which `majorityTrain` predicts. */
  readonly trainMajority: 'up' | 'down';
}

export interface WalkForwardTrading {
  /** Bars traded: from the first block's first bar to the close after the last block. */
  readonly span: EpisodeWindow;
  /** Positions from the learner's calls, one decision every `horizon` bars, held flat between blocks when `step` > `testBlock`. */
  readonly strategy: TradingSummary;
  /** Long on every bar the strategy was tested on, flat where it was, under the same costs. */
  readonly buyAndHold: TradingSummary;
}

export interface WalkForwardResult {
  readonly seed: number;
  readonly featureSpaceId: string;
  /** Bars in the series. */
  readonly bars: number;
  readonly trainWindow: number;
  readonly testBlock: number;
  readonly step: number;
  readonly horizon: number;
  readonly costBps: number;
  readonly blocks: readonly WalkForwardBlock[];
  /** Summed over blocks: accuracy = Σ correct ÷ Σ decided. */
  readonly overall: WalkForwardScores;
  readonly trading: WalkForwardTrading;
}

export class WalkForwardOptionsError extends SwarmbankError {
  constructor(
    readonly option: string,
    message: string,
  ) {
    super('WALK_FORWARD_OPTIONS', `walk-forward option ${option}: ${message}`);
  }
}

/**
 * Walk-forward evaluation, as DESIGN.md asks for real data. Block b tests
 * the steps [t, t + testBlock), t = t₀ + b·step, with a fresh learner
 * trained only on the steps [t − trainWindow, t − horizon), those whose
 * outcome closes before t, and then predicting with learning off. Nothing
 * from t onward reaches training: a feature vector reads its bar and the
 * `lookback − 1` before it, never a later one, and every training outcome
 * closes inside the window. t₀ = lookback − 1 + trainWindow,
 * so even the first window has a feature vector at each of its steps and all
 * blocks learn from the same number of steps. Bars that cannot fill a last
 * block are left out, so every block weighs the same.
 *
 * Accuracy is correct ÷ decided (DESIGN.md), summed over blocks, beside
 * always-long and the two majority-class baselines on the same steps. The
 * trading figures trade the calls over the tested bars with the trading.ts
 * conventions, beside buy-and-hold over the same bars.
 */
export async function walkForward(bars: readonly Bar[], options: WalkForwardOptions = {}): Promise<WalkForwardResult> {
  const { space, trainWindow, testBlock, step, horizon, costBps, seed } = resolve(bars, options);
  const features = computeFeatures(bars, space);
  const open = options.learner ?? ((s: FeatureSpace) => PatternLearner.open({ space: s, ...learnerOptions(options) }));
  const first = space.lookback - 1 + trainWindow;
  const blocks: WalkForwardBlock[] = [];
  const exposures: number[] = [];
  const held: number[] = [];
  for (let t = first; t + testBlock + horizon <= bars.length; t += step) {
    const train = { start: t - trainWindow, end: t };
    const test = { start: t, end: t + testBlock };
    const learner = await open(space);
    try {
      for (const i of scoredSteps(train, bars.length, horizon)) {
        learner.learn(features[i]!, outcomeDirection(bars, i, horizon), { step: i, episode: blocks.length });
      }
      await learner.commit?.();
      const predictions: Prediction[] = [];
      for (let i = test.start; i < test.end; i++) predictions.push(learner.predict(features[i]!));
      // Gaps between blocks are held flat by both; the first block starts the span, so it has none.
      const gap = t - first - exposures.length;
      exposures.push(...new Array<number>(gap).fill(0));
      held.push(...new Array<number>(gap).fill(0));
      const decisions = predictions.filter((_, j) => j % horizon === 0).map((p) => predictionExposure(p));
      exposures.push(...holdForHorizon(decisions, horizon));
      held.push(...new Array<number>(testBlock).fill(1));
      blocks.push(scoreBlock(bars, blocks.length, train, test, horizon, predictions));
    } finally {
      if (learner instanceof PatternLearner) learner.close();
    }
  }
  const span = { start: first, end: first + exposures.length + 1 };
  const traded = bars.slice(span.start, span.end);
  return {
    seed,
    featureSpaceId: space.id,
    bars: bars.length,
    trainWindow,
    testBlock,
    step,
    horizon,
    costBps,
    blocks,
    overall: sumScores(blocks),
    trading: {
      span,
      strategy: summary(simulateTrading(traded, exposures, { costBps })),
      buyAndHold: summary(simulateTrading(traded, held, { costBps })),
    },
  };
}

function scoreBlock(
  bars: readonly Bar[],
  index: number,
  train: EpisodeWindow,
  test: EpisodeWindow,
  horizon: number,
  predictions: readonly Prediction[],
): WalkForwardBlock {
  // The baselines score steps [start, end − horizon), so the window runs `horizon` bars past the block to score its every step.
  const scored = { start: test.start, end: test.end + horizon };
  const learner = scorePredictions(bars, scored, horizon, (i) => predictions[i - test.start]!.direction);
  const majority = majorityOutcome(bars, train, horizon);
  return {
    index,
    train,
    test,
    firstTime: bars[test.start]!.time,
    lastTime: bars[test.end - 1]!.time,
    trainMajority: majority > 0 ? 'up' : 'down',
    steps: predictions.length,
    ...learner,
    decidedFraction: learner.decided / predictions.length,
    alwaysLong: alwaysLongAccuracy(bars, scored, horizon),
    majorityTrain: scorePredictions(bars, scored, horizon, () => majority),
    majorityPeek: majorityClassAccuracy(bars, scored, horizon),
  };
}

/** The more frequent outcome of the window's training steps; a tie calls up, as `majorityClassAccuracy` does. */
function majorityOutcome(bars: readonly Bar[], train: EpisodeWindow, horizon: number): Direction {
  let balance = 0;
  for (const i of scoredSteps(train, bars.length, horizon)) balance += outcomeDirection(bars, i, horizon);
  return balance >= 0 ? 1 : -1;
}

function sumScores(blocks: readonly WalkForwardBlock[]): WalkForwardScores {
  const sum = (pick: (block: WalkForwardBlock) => AccuracyReport): AccuracyReport => {
    const decided = blocks.reduce((n, b) => n + pick(b).decided, 0);
    const correct = blocks.reduce((n, b) => n + pick(b).correct, 0);
    return { decided, correct, accuracy: decided === 0 ? Number.NaN : correct / decided };
  };
  const steps = blocks.reduce((n, b) => n + b.steps, 0);
  const learner = sum((b) => b);
  return {
    steps,
    ...learner,
    decidedFraction: learner.decided / steps,
    alwaysLong: sum((b) => b.alwaysLong),
    majorityTrain: sum((b) => b.majorityTrain),
    majorityPeek: sum((b) => b.majorityPeek),
  };
}

/** The figures without the per-bar arrays, which a report does not print and JSON would bloat. */
function summary({ returns: _returns, equityCurve: _equityCurve, ...figures }: TradingReport): TradingSummary {
  return figures;
}

function learnerOptions(options: WalkForwardOptions) {
  const { learningRate, k, similarityThreshold, minEdge } = options;
  return {
    ...(learningRate === undefined ? {} : { learningRate }),
    ...(k === undefined ? {} : { k }),
    ...(similarityThreshold === undefined ? {} : { similarityThreshold }),
    ...(minEdge === undefined ? {} : { minEdge }),
  };
}

interface Resolved {
  readonly space: FeatureSpace;
  readonly trainWindow: number;
  readonly testBlock: number;
  readonly step: number;
  readonly horizon: number;
  readonly costBps: number;
  readonly seed: number;
}

/** Checks every option before any work, so a bad one fails at once and names itself. */
function resolve(bars: readonly Bar[], options: WalkForwardOptions): Resolved {
  const space = options.space ?? featureSpace();
  const horizon = options.horizon ?? 1;
  integerAtLeast('horizon', horizon, 1);
  const trainWindow = options.trainWindow ?? DEFAULT_TRAIN_WINDOW;
  // Shorter than one feature vector's reach leaves fewer outcomes than bars behind a single vector: too few to learn from, and usually a window given in the wrong unit.
  integerAtLeast('trainWindow', trainWindow, Math.max(space.lookback, horizon + 1));
  const testBlock = options.testBlock ?? DEFAULT_TEST_BLOCK;
  integerAtLeast('testBlock', testBlock, horizon);
  // Trading takes one decision every `horizon` bars and holds it; a block must end on a decision boundary for the next block to start fresh.
  if (testBlock % horizon !== 0) throw new WalkForwardOptionsError('testBlock', `must be a multiple of horizon ${horizon}, got ${testBlock}`);
  const step = options.step ?? testBlock;
  // Overlapping blocks would test a bar twice, and their trades could not be chained into one account.
  integerAtLeast('step', step, testBlock);
  const costBps = options.costBps ?? 0;
  if (!(Number.isFinite(costBps) && costBps >= 0 && costBps <= 10_000)) {
    throw new WalkForwardOptionsError('costBps', `must be a finite number in [0, 10000], got ${costBps}`);
  }
  const seed = options.seed ?? 1;
  if (!Number.isSafeInteger(seed)) throw new WalkForwardOptionsError('seed', `must be a safe integer, got ${seed}`);
  const needed = space.lookback - 1 + trainWindow + testBlock + horizon;
  if (bars.length < needed) {
    throw new WalkForwardOptionsError(
      'bars',
      `${bars.length} bars cannot hold one block: it needs ${needed} (feature warm-up ${space.lookback - 1} + trainWindow ${trainWindow} + testBlock ${testBlock} + horizon ${horizon})`,
    );
  }
  return { space, trainWindow, testBlock, step, horizon, costBps, seed };
}

function integerAtLeast(option: string, value: number, min: number): void {
  if (!Number.isInteger(value) || value < min) throw new WalkForwardOptionsError(option, `must be an integer ≥ ${min}, got ${value}`);
}
