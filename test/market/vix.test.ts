import { describe, expect, it } from 'vitest';
import type { Bar } from '../../src/market/bars.js';
import { oracleAccuracy } from '../../src/market/oracle.js';
import { simulateMarket } from '../../src/market/simulator.js';
import { BARS_PER_YEAR, volatilityIndex } from '../../src/market/vix.js';
import { volatilityRegimeChange } from '../../src/market/volatility-profile.js';

function barsFromLogReturns(returns: readonly number[]): Bar[] {
  let close = 100;
  return [0, ...returns].map((r, i) => {
    close *= Math.exp(r);
    return { time: i, open: close, high: close, low: close, close, volume: 1 };
  });
}

const mean = (values: readonly number[]) => values.reduce((a, b) => a + b, 0) / values.length;

describe('volatilityIndex', () => {
  it('is NaN until the window fills, then reads only past bars', () => {
    const bars = barsFromLogReturns(Array.from({ length: 30 }, (_, i) => (i % 2 === 0 ? 0.01 : -0.01)));
    const vix = volatilityIndex(bars, { window: 21 });
    expect(vix.slice(0, 21).every(Number.isNaN)).toBe(true);
    expect(vix.slice(21).every(Number.isFinite)).toBe(true);
    const changedFuture = volatilityIndex([...bars.slice(0, 25), ...barsFromLogReturns([0.5, 0.5, 0.5, 0.5, 0.5]).slice(1)], { window: 21 });
    expect(changedFuture.slice(0, 25)).toEqual(vix.slice(0, 25));
  });

  it('annualizes the sample deviation of log returns: √252 × 100', () => {
    const returns = Array.from({ length: 21 }, (_, i) => (i % 2 === 0 ? 0.01 : -0.01));
    const vix = volatilityIndex(barsFromLogReturns(returns), { window: 21 });
    const m = mean(returns);
    const sd = Math.sqrt(returns.reduce((a, r) => a + (r - m) ** 2, 0) / 20);
    expect(vix[21]).toBeCloseTo(sd * Math.sqrt(BARS_PER_YEAR) * 100, 9);
  });

  it('reads 0 for a steady drift: direction is not volatility', () => {
    const vix = volatilityIndex(barsFromLogReturns(Array.from({ length: 40 }, () => 0.002)));
    expect(vix.at(-1)).toBeCloseTo(0, 6);
  });

  it('refuses a window too short to measure a deviation', () => {
    expect(() => volatilityIndex([], { window: 1 })).toThrow(expect.objectContaining({ code: 'MARKET_OPTIONS', option: 'vix.window' }));
  });
});

describe('volatility regime change market', () => {
  it('raises the VIX clearly in the turbulent stretch and lets it fall back after', () => {
    for (const seed of [1, 2, 3]) {
      for (const asset of simulateMarket({ seed, ...volatilityRegimeChange() }).assets) {
        // Skip one window after each change so every reading lies wholly inside its stretch.
        const calm = mean(asset.vix.slice(21, 250));
        const turbulent = mean(asset.vix.slice(271, 500));
        const calmAgain = mean(asset.vix.slice(521, 750));
        expect(turbulent).toBeGreaterThan(2 * calm);
        expect(turbulent).toBeGreaterThan(2 * calmAgain);
      }
    }
  });

  it('scales drift with noise in turbulence, so moves grow but the oracle stays as sharp', () => {
    const asset = simulateMarket({ seed: 4, ...volatilityRegimeChange({ calmBars: 1_000, turbulentBars: 1_000 }) }).assets[0]!;
    const calm = asset.latent.slice(0, 1_000);
    const turbulent = asset.latent.slice(1_000, 2_000);
    const drift = (states: typeof calm) => mean(states.filter((s) => s.regime === 'trending-up').map((s) => s.drift));
    expect(drift(turbulent) / drift(calm)).toBeCloseTo(3, 9);
    const calmOracle = oracleAccuracy(asset, { start: 0, end: 1_000 }).accuracy;
    const turbulentOracle = oracleAccuracy(asset, { start: 1_000, end: 2_000 }).accuracy;
    expect(Math.abs(turbulentOracle - calmOracle)).toBeLessThan(0.05);
  });
});
