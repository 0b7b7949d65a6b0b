import type { Bar } from './bars.js';
import { expectedLogReturn, type LatentState } from './latent.js';
import { scorePredictions, type AccuracyReport, type Direction, type EpisodeWindow } from './outcomes.js';

/**
 * The oracle's call for the next `horizon` bars: the sign of the expected
 * return given the latent state — the drift's sign in a trend or breakout,
 * back toward the anchor in a range or compression. No learner sees more than
 * the bars, so no learner can beat this on average; 0 when the state carries
 * no signal (e.g. the first bar of a range, sitting on its anchor).
 */
export function oraclePrediction(state: LatentState, horizon = 1): Direction {
  return Math.sign(expectedLogReturn(state, horizon)) as Direction;
}

/** A series the oracle can score: bars with the latent state after each. */
export interface LatentSeries {
  readonly bars: readonly Bar[];
  readonly latent: readonly LatentState[];
}

/** The oracle's accuracy on an episode: the ceiling a learner's accuracy on the same window is read against. */
export function oracleAccuracy(series: LatentSeries, window?: EpisodeWindow, horizon = 1): AccuracyReport {
  return scorePredictions(series.bars, window ?? { start: 0, end: series.bars.length }, horizon, (i) => {
    const state = series.latent[i];
    return state === undefined ? 0 : oraclePrediction(state, horizon);
  });
}
