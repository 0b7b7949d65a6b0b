import type { FeatureSeries } from '../learning/episode.js';
import { oraclePrediction } from '../market/oracle.js';
import { outcomeDirection, type Direction } from '../market/outcomes.js';
import type { LatencySummary } from './deployment.js';
import { consensus } from './vote.js';

/** One agent's calls over held-out windows, step by step. */
export interface Calls {
  readonly steps: readonly number[];
  readonly directions: readonly Direction[];
}

export interface Score {
  readonly decided: number;
  readonly correct: number;
  /** correct / decided; NaN when nothing was decided. */
  readonly accuracy: number;
}

/** DESIGN.md's accuracy of calls on a series: correct / decided, a step decided when both the call and the outcome are non-zero. */
export function scoreCalls(series: FeatureSeries, calls: Calls, horizon = 1): Score {
  let decided = 0;
  let correct = 0;
  calls.steps.forEach((step, k) => {
    const call = calls.directions[k]!;
    const outcome = outcomeDirection(series.bars, step, horizon);
    if (call === 0 || outcome === 0) return;
    decided++;
    if (call === outcome) correct++;
  });
  return { decided, correct, accuracy: decided === 0 ? Number.NaN : correct / decided };
}

/** The oracle's calls on the same steps; all flat without latent states. */
export function oracleCalls(series: FeatureSeries, steps: readonly number[], horizon = 1): Calls {
  return { steps, directions: steps.map((i) => (series.latent?.[i] === undefined ? 0 : oraclePrediction(series.latent[i]!, horizon))) };
}

export function mergeScores(scores: readonly Score[]): Score {
  const decided = scores.reduce((n, s) => n + s.decided, 0);
  const correct = scores.reduce((n, s) => n + s.correct, 0);
  return { decided, correct, accuracy: decided === 0 ? Number.NaN : correct / decided };
}

/** The calls of a vote over held-out steps: decided (and right), abstained for want of agreement, and steps in all. */
export interface VoteTally {
  readonly steps: number;
  readonly decided: number;
  readonly correct: number;
  readonly abstained: number;
}

/**
 * Scores the voters' consensus (see `consensus`) on every held-out step the
 * oracle's calls list: a step is decided when the vote stands and the
 * outcome is not 0, abstained when the vote does not stand.
 */
export function tallyVotes(series: FeatureSeries, voters: readonly (readonly Calls[])[], oracle: readonly Calls[], threshold: number, horizon = 1): VoteTally {
  let steps = 0;
  let decided = 0;
  let correct = 0;
  let abstained = 0;
  oracle.forEach((episodeCalls, k) => {
    episodeCalls.steps.forEach((step, j) => {
      steps++;
      const call = consensus(
        voters.map((calls) => calls[k]!.directions[j] as Direction),
        voters.length,
        threshold,
      );
      const outcome = outcomeDirection(series.bars, step, horizon);
      if (call === 0) abstained++;
      else if (outcome !== 0) {
        decided++;
        if (call === outcome) correct++;
      }
    });
  });
  return { steps, decided, correct, abstained };
}

/** Count, median, 99th percentile and maximum of latencies in ms; NaN figures when there are none. */
export function summarize(values: readonly number[]): LatencySummary {
  if (values.length === 0) return { count: 0, p50Ms: Number.NaN, p99Ms: Number.NaN, maxMs: Number.NaN };
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
  return { count: sorted.length, p50Ms: at(0.5), p99Ms: at(0.99), maxMs: sorted.at(-1)! };
}
