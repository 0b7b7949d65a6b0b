import type { Pattern } from '../memory/pattern.js';

/**
 * How far the leader trusts a worker: its held-out edge over chance, as a
 * share of the best worker's edge, in [0, 1]. A worker with no edge (at or
 * below chance) weighs 0 and its deltas are discarded; one not yet
 * evaluated (NaN, before the first evaluation or while it was down) counts
 * fully, since nothing speaks against it yet.
 */
export function workerWeight(accuracy: number, best: number): number {
  if (!Number.isFinite(accuracy) || !Number.isFinite(best) || best <= 0.5) return 1;
  return Math.min(1, Math.max(0, (accuracy - 0.5) / (best - 0.5)));
}

/**
 * The pattern as the leader keeps it from a worker of `weight`: its edge
 * (2·confidence − 1, what its vote carries) scaled by the weight, so a weak
 * worker's patterns vote less, and a pattern never comes to vote against
 * the outcome it predicts.
 */
export function weighted(pattern: Pattern, weight: number): Pattern {
  if (weight >= 1) return pattern;
  return { ...pattern, confidence: 0.5 + weight * (pattern.confidence - 0.5) };
}

/** What a pattern is worth to a worker: the edge of its vote times the observations behind it. */
export function utility(pattern: Pattern): number {
  return (2 * pattern.confidence - 1) * pattern.support;
}

/**
 * The leader's top-down update for one worker: its best patterns (by
 * utility, ties by id) that the worker did not originate — a worker's own
 * patterns are freshest where they were learned — and that it has not been
 * sent already at this version.
 */
export function topDown(patterns: readonly Pattern[], worker: string, sent: ReadonlyMap<string, number>, limit: number): Pattern[] {
  return patterns
    .filter((p) => p.origin !== worker && utility(p) > 0 && sent.get(p.id) !== p.version)
    .sort((a, b) => utility(b) - utility(a) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    .slice(0, limit);
}
