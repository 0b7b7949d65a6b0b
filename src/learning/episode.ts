import { SwarmbankError } from '../errors.js';
import type { Bar } from '../market/bars.js';
import type { LatentState } from '../market/latent.js';
import { oraclePrediction } from '../market/oracle.js';
import { outcomeDirection, scoredSteps, type AccuracyReport, type Direction, type EpisodeWindow } from '../market/outcomes.js';
import { computeFeatures, type FeatureSpace } from './features.js';
import type { Learner } from './learner.js';

export const DEFAULT_EPISODE_LENGTH = 64;

/** A series prepared once for many episodes: its bars, their feature vectors and, from the simulator, the latent states. */
export interface FeatureSeries {
  readonly bars: readonly Bar[];
  readonly features: readonly (Float32Array | undefined)[];
  readonly latent?: readonly LatentState[];
}

export function featureSeries(bars: readonly Bar[], space: FeatureSpace, latent?: readonly LatentState[]): FeatureSeries {
  return { bars, features: computeFeatures(bars, space), ...(latent === undefined ? {} : { latent }) };
}

export type EpisodeMode = 'train' | 'eval';

export interface EpisodeOptions {
  /** First bar of the window. */
  readonly start: number;
  readonly length?: number;
  /** Bars ahead whose return sign is predicted. Default 1. */
  readonly horizon?: number;
  /** `train`: predict, then learn from the outcome. `eval`: predict only. */
  readonly mode: EpisodeMode;
  /** Passed to the learner as context. */
  readonly episode?: number;
  /**
   * Score and teach the opposite of every outcome (the oracle's calls are
   * scored against the inverted outcomes too). A task whose answers contradict
   * the market's on the very same inputs is the sharpest interference test for
   * a learner that must not forget: see the forgetting scenario.
   */
  readonly invert?: boolean;
}

export interface EpisodeResult extends AccuracyReport {
  readonly mode: EpisodeMode;
  readonly window: EpisodeWindow;
  /** Steps with a feature vector, where the learner was asked. */
  readonly steps: number;
  /** Steps skipped because the features were still warming up. */
  readonly warmup: number;
  /** The oracle on the same steps; absent without latent states. */
  readonly oracle?: AccuracyReport;
  readonly created: number;
  readonly updated: number;
}

export class EpisodeOptionsError extends SwarmbankError {
  constructor(
    readonly option: string,
    message: string,
  ) {
    super('EPISODE_OPTIONS', `episode option ${option}: ${message}`);
  }
}

/**
 * Runs one episode over the window [start, start + length): at each step i
 * with a feature vector and an outcome inside the window, the learner
 * predicts the sign of the return from bar i to i + horizon and, in train
 * mode, then learns it. Accuracy counts decided steps only — both the call
 * and the outcome non-zero — as DESIGN.md defines it. Steps before the
 * feature warm-up are skipped and counted; start the window at
 * `space.lookback − 1` or later to score every step. A training episode
 * ends with one `commit`, so its learning is stored as one transaction.
 */
export async function runEpisode(learner: Learner, series: FeatureSeries, options: EpisodeOptions): Promise<EpisodeResult> {
  const { start, mode, episode } = options;
  const length = options.length ?? DEFAULT_EPISODE_LENGTH;
  const horizon = options.horizon ?? 1;
  if (mode !== 'train' && mode !== 'eval') throw new EpisodeOptionsError('mode', `must be train or eval, got ${String(mode)}`);
  if (!Number.isInteger(length) || length < 2) throw new EpisodeOptionsError('length', `must be an integer ≥ 2, got ${length}`);
  if (series.features.length !== series.bars.length) {
    throw new EpisodeOptionsError('series', `has ${series.features.length} feature vectors for ${series.bars.length} bars`);
  }
  const window: EpisodeWindow = { start, end: start + length };
  const latent = series.latent;
  const sign = options.invert === true ? -1 : 1;
  let warmup = 0;
  let steps = 0;
  let decided = 0;
  let correct = 0;
  let oracleDecided = 0;
  let oracleCorrect = 0;
  let created = 0;
  let updated = 0;
  for (const i of scoredSteps(window, series.bars.length, horizon)) {
    const features = series.features[i];
    if (features === undefined) {
      warmup++;
      continue;
    }
    steps++;
    const prediction = learner.predict(features);
    const outcome = (sign * outcomeDirection(series.bars, i, horizon)) as Direction;
    if (prediction.direction !== 0 && outcome !== 0) {
      decided++;
      if (prediction.direction === outcome) correct++;
    }
    const state = latent?.[i];
    if (state !== undefined) {
      const call = oraclePrediction(state, horizon);
      if (call !== 0 && outcome !== 0) {
        oracleDecided++;
        if (call === outcome) oracleCorrect++;
      }
    }
    if (mode === 'train') {
      const change = learner.learn(features, outcome, { step: i, ...(episode === undefined ? {} : { episode }) });
      created += change.created.length;
      updated += change.updated.length;
    }
  }
  if (mode === 'train') await learner.commit?.();
  return {
    mode,
    window,
    steps,
    warmup,
    decided,
    correct,
    accuracy: ratio(correct, decided),
    ...(latent === undefined ? {} : { oracle: { decided: oracleDecided, correct: oracleCorrect, accuracy: ratio(oracleCorrect, oracleDecided) } }),
    created,
    updated,
  };
}

/** Consecutive, non-overlapping episode windows of `length` bars from `from` (default: the first bar with features) up to `to`. */
export function episodeStarts(series: FeatureSeries, options: { readonly length?: number; readonly from?: number; readonly to?: number } = {}): number[] {
  const length = options.length ?? DEFAULT_EPISODE_LENGTH;
  const first = options.from ?? Math.max(0, series.features.findIndex((f) => f !== undefined));
  const to = options.to ?? series.bars.length;
  const starts: number[] = [];
  for (let start = first; start + length <= to; start += length) starts.push(start);
  return starts;
}

function ratio(correct: number, decided: number): number {
  return decided === 0 ? Number.NaN : correct / decided;
}
