/** One simulated instrument. Dynamics are shared; scale, price and volume are the asset's own. */
export interface AssetSpec {
  readonly id: string;
  /** Open of the first bar. */
  readonly initialPrice: number;
  /** σ: per-bar standard deviation of a trend bar's log return; every drift and noise in the dynamics is a multiple of it. */
  readonly volatility: number;
  /** Median volume of a quiet bar. */
  readonly baseVolume: number;
}

/**
 * The default basket: three assets at different scales so that nothing
 * downstream can lean on a particular price level or volatility.
 *
 * | id    | initialPrice | volatility (σ per bar) | baseVolume |
 * |-------|--------------|------------------------|------------|
 * | ALPHA | 100          | 0.010 (≈16%/yr)        | 1,000,000  |
 * | BETA  | 40           | 0.015 (≈24%/yr)        | 2,500,000  |
 * | GAMMA | 250          | 0.007 (≈11%/yr)        | 400,000    |
 */
export const DEFAULT_ASSETS: readonly AssetSpec[] = [
  { id: 'ALPHA', initialPrice: 100, volatility: 0.01, baseVolume: 1_000_000 },
  { id: 'BETA', initialPrice: 40, volatility: 0.015, baseVolume: 2_500_000 },
  { id: 'GAMMA', initialPrice: 250, volatility: 0.007, baseVolume: 400_000 },
];
