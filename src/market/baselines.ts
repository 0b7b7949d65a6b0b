import type { Bar } from './bars.js';
import { outcomeDirection, scoredSteps, scorePredictions, type AccuracyReport, type EpisodeWindow } from './outcomes.js';

/** Accuracy of predicting "up" at every step: what a buy-and-hold view scores. */
export function alwaysLongAccuracy(bars: readonly Bar[], window?: EpisodeWindow, horizon = 1): AccuracyReport {
  return scorePredictions(bars, window ?? { start: 0, end: bars.length }, horizon, () => 1);
}

/**
 * Accuracy of always predicting the window's own majority outcome. It peeks at
 * the answers, so it is an upper bound for any constant predictor, not a
 * strategy: a learner that merely matches it has learned nothing per bar.
 */
export function majorityClassAccuracy(bars: readonly Bar[], window?: EpisodeWindow, horizon = 1): AccuracyReport {
  const scope = window ?? { start: 0, end: bars.length };
  let ups = 0;
  let downs = 0;
  for (const i of scoredSteps(scope, bars.length, horizon)) {
    const outcome = outcomeDirection(bars, i, horizon);
    if (outcome > 0) ups++;
    else if (outcome < 0) downs++;
  }
  const majority = ups >= downs ? 1 : -1;
  return scorePredictions(bars, scope, horizon, () => majority);
}
