/** How an agent's learning rate follows the VIX-like index under `vixAdaptation`. */
export interface VixLearningRate {
  /** The rate at the reference level, and the rate without adaptation. */
  readonly base: number;
  /** The index level at which the rate is `base`: 20, about the long-run mean of the CBOE VIX. */
  readonly reference: number;
  readonly min: number;
  /** Never above 0.05, the rate above which the runtime's health check warns. */
  readonly max: number;
}

/** The learning rate above which DESIGN.md's health check warns; adaptation never goes past it. */
export const MAX_ADAPTED_RATE = 0.05;

export const DEFAULT_VIX_LEARNING_RATE: VixLearningRate = { base: 0.01, reference: 20, min: 0.0025, max: MAX_ADAPTED_RATE };

/**
 * lr = clamp(base × VIX / reference, min, max), max ≤ 0.05.
 *
 * Proportional: when the market moves twice as much, what was learned goes
 * stale twice as fast, so mature patterns track it twice as fast. The index
 * read is the previous episode's mean (what is known before the episode
 * starts: no look-ahead); with none yet (first episode, window still
 * filling) the rate is `base`.
 */
export function vixLearningRate(vix: number, curve: VixLearningRate = DEFAULT_VIX_LEARNING_RATE): number {
  const max = Math.min(curve.max, MAX_ADAPTED_RATE);
  if (!Number.isFinite(vix) || vix < 0) return Math.min(curve.base, max);
  return Math.min(max, Math.max(curve.min, (curve.base * vix) / curve.reference));
}
