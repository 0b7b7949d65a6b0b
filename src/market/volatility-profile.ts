/** A run of bars whose drifts and noises are all multiplied by `scale` (reversion coefficients are not, so ranges stay stable). */
export interface VolatilityStretch {
  readonly bars: number;
  readonly scale: number;
}

export interface VolatilityRegimeChangeOptions {
  /** Bars of each calm stretch (before and after the turbulence). */
  readonly calmBars?: number;
  readonly turbulentBars?: number;
  /** Multiplier on every drift and noise during the turbulent stretch. */
  readonly turbulentScale?: number;
}

/**
 * Calm, turbulent, calm again: the market the auto-scale topology adapts to.
 * Defaults: 250 calm bars (about a trading year), 250 turbulent bars at 3×
 * volatility, 250 calm bars. Drift scales with noise, so the oracle's
 * accuracy is unchanged and only the size of moves — and the VIX — change.
 * Spread into `simulateMarket` options: `{ seed, ...volatilityRegimeChange() }`.
 */
export function volatilityRegimeChange(options: VolatilityRegimeChangeOptions = {}): {
  length: number;
  volatilityProfile: readonly VolatilityStretch[];
} {
  const calm = options.calmBars ?? 250;
  const turbulent = options.turbulentBars ?? 250;
  const scale = options.turbulentScale ?? 3;
  return {
    length: 2 * calm + turbulent,
    volatilityProfile: [
      { bars: calm, scale: 1 },
      { bars: turbulent, scale },
      { bars: calm, scale: 1 },
    ],
  };
}
