import { describe, expect, it } from 'vitest';
import { alwaysLongAccuracy, majorityClassAccuracy } from '../../src/market/baselines.js';
import { DEFAULT_DYNAMICS } from '../../src/market/dynamics.js';
import { expectedLogReturn, type LatentState } from '../../src/market/latent.js';
import { oracleAccuracy, oraclePrediction } from '../../src/market/oracle.js';
import { outcomeDirection } from '../../src/market/outcomes.js';
import { DEFAULT_TRANSITIONS, type Regime, type TransitionMatrix } from '../../src/market/regimes.js';
import { simulateMarket } from '../../src/market/simulator.js';

/** A chain that never leaves `regime`, for markets whose right answer is known in closed form. */
function only(regime: Regime): TransitionMatrix {
  const stay = Object.fromEntries(Object.keys(DEFAULT_TRANSITIONS).map((r) => [r, r === regime ? 1 : 0])) as Record<Regime, number>;
  return { ...DEFAULT_TRANSITIONS, [regime]: stay };
}

function pureMarket(regime: Regime, dynamics = DEFAULT_DYNAMICS, length = 20_000) {
  return simulateMarket({ seed: 21, length, dynamics, transitions: only(regime), initialRegime: regime }).assets[0]!;
}

/** Standard normal CDF by the Abramowitz–Stegun erf approximation (error < 1.5e-7), enough for ±0.01 checks. */
function phi(x: number): number {
  const t = 1 / (1 + 0.3275911 * (Math.abs(x) / Math.SQRT2));
  const poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  const erf = 1 - poly * Math.exp(-(x * x) / 2);
  return x >= 0 ? (1 + erf) / 2 : (1 - erf) / 2;
}

const state = (fields: Partial<LatentState>): LatentState => ({
  regime: 'ranging',
  phase: undefined,
  drift: 0,
  reversion: 1,
  deviation: 0,
  ...fields,
});

describe('oracle on synthetic cases with a known answer', () => {
  it('calls up on every bar of a noiseless up-trend and is right every time', () => {
    const asset = pureMarket('trending-up', { ...DEFAULT_DYNAMICS, trendNoise: 0 }, 500);
    expect(asset.latent.every((s) => oraclePrediction(s) === 1)).toBe(true);
    expect(oracleAccuracy(asset)).toEqual({ decided: 499, correct: 499, accuracy: 1 });
  });

  it('calls down on every bar of a noiseless down-trend and is right every time', () => {
    const asset = pureMarket('trending-down', { ...DEFAULT_DYNAMICS, trendNoise: 0 }, 500);
    expect(oracleAccuracy(asset)).toEqual({ decided: 499, correct: 499, accuracy: 1 });
    expect(oracleAccuracy(asset, undefined, 10).accuracy).toBe(1);
  });

  it('calls back toward the anchor in a range, with the drift in a trend or breakout, and abstains with no signal', () => {
    expect(oraclePrediction(state({ reversion: -0.65, deviation: 0.02 }))).toBe(-1);
    expect(oraclePrediction(state({ reversion: -0.65, deviation: -0.02 }))).toBe(1);
    expect(oraclePrediction(state({ regime: 'volatile', phase: 'breakout', drift: -0.04 }))).toBe(-1);
    expect(oraclePrediction(state({ regime: 'trending-up', drift: 0.016 }))).toBe(1);
    expect(oraclePrediction(state({ reversion: -0.65, deviation: 0 }))).toBe(0);
  });

  it('expects h·drift + (φ^h − 1)·deviation over h bars', () => {
    expect(expectedLogReturn(state({ drift: 0.01 }), 5)).toBeCloseTo(0.05, 12);
    expect(expectedLogReturn(state({ reversion: 0.5, deviation: 0.08 }), 2)).toBeCloseTo((0.25 - 1) * 0.08, 12);
  });

  it('hits Φ(trendDrift) in a noisy trend, the best any predictor can do there', () => {
    expect(oracleAccuracy(pureMarket('trending-up')).accuracy).toBeCloseTo(phi(DEFAULT_DYNAMICS.trendDrift), 2);
  });

  it('hits ½ + arctan(√((1−φ)/(1+φ)))/π in a range, the closed form for an AR(1) deviation', () => {
    const phiR = DEFAULT_DYNAMICS.rangingReversion;
    const expected = 0.5 + Math.atan(Math.sqrt((1 - phiR) / (1 + phiR))) / Math.PI;
    expect(oracleAccuracy(pureMarket('ranging')).accuracy).toBeCloseTo(expected, 2);
  });

  it('scores an episode over the steps whose outcome lies inside it', () => {
    const asset = simulateMarket({ seed: 6, length: 400 }).assets[0]!;
    const window = { start: 100, end: 164 };
    const report = oracleAccuracy(asset, window);
    let correct = 0;
    for (let i = 100; i < 163; i++) if (oraclePrediction(asset.latent[i]!) === outcomeDirection(asset.bars, i)) correct++;
    expect(report).toEqual({ decided: 63, correct, accuracy: correct / 63 });
    expect(() => oracleAccuracy(asset, { start: 390, end: 401 })).toThrow(expect.objectContaining({ code: 'MARKET_OPTIONS', option: 'window' }));
  });
});

describe('oracle on the default market', () => {
  const runs = [1, 2, 3, 4, 5, 6].flatMap((seed) => simulateMarket({ seed, length: 5_000 }).assets);
  const pooled = (reports: { correct: number; decided: number }[]) =>
    reports.reduce((a, r) => a + r.correct, 0) / reports.reduce((a, r) => a + r.decided, 0);

  it('is right about 0.9 of the time on every seed and asset (0.85–0.95), ~0.9 pooled', () => {
    const reports = runs.map((asset) => oracleAccuracy(asset));
    for (const r of reports) {
      expect(r.accuracy).toBeGreaterThan(0.85);
      expect(r.accuracy).toBeLessThan(0.95);
    }
    expect(pooled(reports)).toBeGreaterThan(0.88);
    expect(pooled(reports)).toBeLessThan(0.92);
  });

  it('stays well above chance over longer horizons, since the regime usually persists', () => {
    expect(pooled(runs.map((asset) => oracleAccuracy(asset, undefined, 5)))).toBeGreaterThan(0.85);
  });

  it('leaves always-long and the majority class near a coin flip, far below the oracle', () => {
    const long = runs.map((asset) => alwaysLongAccuracy(asset.bars));
    const majority = runs.map((asset) => majorityClassAccuracy(asset.bars));
    for (const r of [...long, ...majority]) expect(r.accuracy).toBeLessThan(0.65);
    expect(pooled(long)).toBeGreaterThan(0.45);
    expect(pooled(long)).toBeLessThan(0.55);
    expect(pooled(runs.map((asset) => oracleAccuracy(asset))) - pooled(majority)).toBeGreaterThan(0.3);
  });
});
