import type { Bar } from './bars.js';
import { MarketOptionsError } from './errors.js';

/** Up, down, or no call (a flat outcome or an abstaining predictor). */
export type Direction = 1 | -1 | 0;

/** A window of bars: indices start (included) to end (excluded). */
export interface EpisodeWindow {
  readonly start: number;
  readonly end: number;
}

/** Sign of the close-to-close return from bar i to bar i + horizon: the label every predictor is scored on. */
export function outcomeDirection(bars: readonly Bar[], i: number, horizon = 1): Direction {
  const now = bars[i];
  const later = bars[i + horizon];
  if (now === undefined || later === undefined) {
    throw new MarketOptionsError('index', `bar ${i} has no outcome ${horizon} bar(s) later in a series of ${bars.length}`);
  }
  return Math.sign(later.close - now.close) as Direction;
}

/**
 * The bar indices of a window at which a prediction can be scored without
 * looking outside it: i in [start, end − horizon).
 */
export function scoredSteps(window: EpisodeWindow, seriesLength: number, horizon: number): number[] {
  if (!Number.isInteger(horizon) || horizon < 1) throw new MarketOptionsError('horizon', `must be an integer ≥ 1, got ${horizon}`);
  const { start, end } = window;
  if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end > seriesLength || start > end) {
    throw new MarketOptionsError('window', `[${start}, ${end}) is not inside a series of ${seriesLength} bars`);
  }
  const steps: number[] = [];
  for (let i = start; i < end - horizon; i++) steps.push(i);
  return steps;
}

export interface AccuracyReport {
  /** Steps where both the prediction and the outcome are non-zero: accuracy = correct / decided. */
  readonly decided: number;
  readonly correct: number;
  /** NaN when no step was decided. */
  readonly accuracy: number;
}

/** Scores predictions against outcomes over a window, counting only decided steps (see DESIGN.md). */
export function scorePredictions(
  bars: readonly Bar[],
  window: EpisodeWindow,
  horizon: number,
  predict: (i: number) => Direction,
): AccuracyReport {
  let decided = 0;
  let correct = 0;
  for (const i of scoredSteps(window, bars.length, horizon)) {
    const prediction = predict(i);
    const outcome = outcomeDirection(bars, i, horizon);
    if (prediction === 0 || outcome === 0) continue;
    decided++;
    if (prediction === outcome) correct++;
  }
  return { decided, correct, accuracy: decided === 0 ? Number.NaN : correct / decided };
}
