import type { Bar } from './bars.js';
import { MarketOptionsError } from './errors.js';

export interface VixOptions {
  /** Close-to-close log returns per reading; 21 ≈ one trading month, the horizon the CBOE VIX quotes. */
  readonly window?: number;
  /** Annualization: daily bars, 252 trading days a year. */
  readonly barsPerYear?: number;
}

export const DEFAULT_VIX_WINDOW = 21;
export const BARS_PER_YEAR = 252;

/**
 * A VIX-like index per bar: the sample standard deviation of the last
 * `window` log returns, × √barsPerYear × 100 — realized, not implied,
 * volatility, which is what a simulator can know. Bar i reads returns ending
 * at bar i, so it never looks ahead; bars before the first full window are
 * NaN rather than a noisy short-window figure.
 */
export function volatilityIndex(bars: readonly Bar[], options: VixOptions = {}): number[] {
  const window = options.window ?? DEFAULT_VIX_WINDOW;
  const barsPerYear = options.barsPerYear ?? BARS_PER_YEAR;
  if (!Number.isInteger(window) || window < 2) throw new MarketOptionsError('vix.window', `must be an integer ≥ 2, got ${window}`);
  if (!(barsPerYear > 0)) throw new MarketOptionsError('vix.barsPerYear', `must be positive, got ${barsPerYear}`);
  const returns = bars.map((bar, i) => (i === 0 ? 0 : Math.log(bar.close / bars[i - 1]!.close)));
  const scale = Math.sqrt(barsPerYear) * 100;
  return bars.map((_, i) => {
    if (i < window) return Number.NaN;
    const slice = returns.slice(i - window + 1, i + 1);
    const mean = slice.reduce((a, b) => a + b, 0) / window;
    const variance = slice.reduce((a, r) => a + (r - mean) ** 2, 0) / (window - 1);
    return Math.sqrt(variance) * scale;
  });
}
