/** Successes out of trials, one arm of a comparison. */
export interface Proportion {
  readonly successes: number;
  readonly trials: number;
}

export interface ZTestResult {
  /** Successes ÷ trials of each arm; NaN with no trials. */
  readonly a: number;
  readonly b: number;
  readonly nA: number;
  readonly nB: number;
  /** (a − b) ÷ its standard error under the pooled proportion; positive when a is ahead. NaN when either arm has no trials. */
  readonly z: number;
  /** Two-sided: the chance of a difference at least this large if both arms had the same proportion. 1 when nothing could differ; NaN without trials. */
  readonly pValue: number;
}

/**
 * The two-proportion z-test: under H0 (both arms share one success
 * probability p, estimated pooled), the difference of the observed
 * proportions is approximately normal with variance
 * p(1 − p)(1/nA + 1/nB). The normal approximation wants about 5 successes
 * and 5 failures per arm; with fewer the p-value is rough.
 */
export function twoProportionZTest(a: Proportion, b: Proportion): ZTestResult {
  const pa = a.trials === 0 ? Number.NaN : a.successes / a.trials;
  const pb = b.trials === 0 ? Number.NaN : b.successes / b.trials;
  if (a.trials === 0 || b.trials === 0) return { a: pa, b: pb, nA: a.trials, nB: b.trials, z: Number.NaN, pValue: Number.NaN };
  const pooled = (a.successes + b.successes) / (a.trials + b.trials);
  const se = Math.sqrt(pooled * (1 - pooled) * (1 / a.trials + 1 / b.trials));
  // Every outcome the same in both arms: no evidence of any difference.
  if (se === 0) return { a: pa, b: pb, nA: a.trials, nB: b.trials, z: 0, pValue: 1 };
  const z = (pa - pb) / se;
  return { a: pa, b: pb, nA: a.trials, nB: b.trials, z, pValue: Math.min(1, 2 * (1 - normalCdf(Math.abs(z)))) };
}

/** Φ(x) from erf, by Abramowitz and Stegun 7.1.26 (absolute error under 1.5e−7). */
export function normalCdf(x: number): number {
  const t = 1 / (1 + 0.3275911 * (Math.abs(x) / Math.SQRT2));
  const poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  const erf = 1 - poly * Math.exp(-(x * x) / 2);
  return x >= 0 ? (1 + erf) / 2 : (1 - erf) / 2;
}
