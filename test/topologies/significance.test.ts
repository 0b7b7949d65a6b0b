import { describe, expect, it } from 'vitest';
import { normalCdf, twoProportionZTest } from '../../src/topologies/significance.js';

describe('twoProportionZTest', () => {
  it('gives the textbook z and two-sided p-value', () => {
    // 90/100 against 80/100: pooled 0.85, se = √(0.85·0.15·0.02) ≈ 0.0505, z ≈ 1.98, p ≈ 0.048.
    const result = twoProportionZTest({ successes: 90, trials: 100 }, { successes: 80, trials: 100 });
    expect(result.z).toBeCloseTo(1.9803, 3);
    expect(result.pValue).toBeCloseTo(0.0477, 3);
    expect(result).toMatchObject({ a: 0.9, b: 0.8, nA: 100, nB: 100 });
  });

  it('is symmetric in its arms but for the sign of z', () => {
    const ab = twoProportionZTest({ successes: 30, trials: 70 }, { successes: 50, trials: 90 });
    const ba = twoProportionZTest({ successes: 50, trials: 90 }, { successes: 30, trials: 70 });
    expect(ab.z).toBeCloseTo(-ba.z, 12);
    expect(ab.pValue).toBeCloseTo(ba.pValue, 12);
  });

  it('finds no difference where there is none to find, and no answer without trials', () => {
    expect(twoProportionZTest({ successes: 10, trials: 10 }, { successes: 20, trials: 20 })).toMatchObject({ z: 0, pValue: 1 });
    expect(twoProportionZTest({ successes: 5, trials: 10 }, { successes: 10, trials: 20 }).pValue).toBeCloseTo(1, 6);
    expect(twoProportionZTest({ successes: 0, trials: 0 }, { successes: 3, trials: 5 }).pValue).toBeNaN();
  });
});

describe('normalCdf', () => {
  it('matches the normal table', () => {
    expect(normalCdf(0)).toBeCloseTo(0.5, 7);
    expect(normalCdf(1.96)).toBeCloseTo(0.975, 4);
    expect(normalCdf(-1)).toBeCloseTo(0.158655, 5);
  });
});
