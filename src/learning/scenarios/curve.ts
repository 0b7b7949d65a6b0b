/** One point of a learning curve: the held-out evaluation after a training episode (or, in continual learning, a trading day). */
export interface CurvePoint {
  /** 1-based: the point after the first episode is episode 1. */
  readonly episode: number;
  /** Evaluation accuracy, learning off: correct / decided. NaN if nothing was decided. */
  readonly accuracy: number;
  /** The oracle on the same steps; NaN without latent states. */
  readonly oracleAccuracy: number;
  /** Steps the learner called (long or short) ÷ steps scored. */
  readonly decidedFraction: number;
  readonly patterns: number;
}

/**
 * The first episode after which the mean of the last `window` points
 * reaches `target` — DESIGN.md's convergence, with a full window: the
 * earliest possible answer is episode `window`, since a mean over fewer
 * points is not yet the rolling mean it names. `null` if never reached.
 */
export function convergenceEpisode(curve: readonly CurvePoint[], target: number, window: number): number | null {
  for (let end = window; end <= curve.length; end++) {
    if (meanAccuracy(curve.slice(end - window, end)) >= target) return curve[end - 1]!.episode;
  }
  return null;
}

/**
 * Convergence against the oracle instead of a fixed target: the first
 * episode after which the rolling mean reaches `share` of the oracle's
 * rolling mean over the same points. On an easy market a fixed 0.7 is met at
 * once; this asks how long the learner takes to get close to the best possible.
 */
export function nearOracleEpisode(curve: readonly CurvePoint[], share: number, window: number): number | null {
  for (let end = window; end <= curve.length; end++) {
    const points = curve.slice(end - window, end);
    const oracle = mean(points.map((p) => p.oracleAccuracy));
    if (Number.isFinite(oracle) && meanAccuracy(points) >= share * oracle) return curve[end - 1]!.episode;
  }
  return null;
}

/** The reported accuracy of a run: the mean of its last `window` points, so one lucky episode does not make the figure. */
export function finalAccuracy(curve: readonly CurvePoint[], window: number): { accuracy: number; oracleAccuracy: number } {
  const tail = curve.slice(-window);
  return { accuracy: meanAccuracy(tail), oracleAccuracy: mean(tail.map((p) => p.oracleAccuracy)) };
}

/** 1 − faster / slower: 0.5 means half the episodes. `null` when either run never converged. */
export function speedup(episodes: number | null, baseline: number | null): number | null {
  return episodes === null || baseline === null ? null : 1 - episodes / baseline;
}

function meanAccuracy(points: readonly CurvePoint[]): number {
  return mean(points.map((p) => p.accuracy));
}

/** NaN entries (nothing decided) are skipped; NaN if none is left. */
function mean(values: readonly number[]): number {
  const finite = values.filter(Number.isFinite);
  return finite.length === 0 ? Number.NaN : finite.reduce((a, b) => a + b, 0) / finite.length;
}
