import { describe, expect, it } from 'vitest';
import { MarketOptionsError } from '../../src/market/errors.js';
import { DEFAULT_TRANSITIONS, REGIMES, drawRegime, stationaryDistribution, validateTransitions, type TransitionMatrix } from '../../src/market/regimes.js';
import { TASK_A, TASK_B } from '../../src/market/tasks.js';
import { createRandom } from '../../src/random.js';

describe('regime chain', () => {
  it('ships valid transition matrices', () => {
    for (const matrix of [DEFAULT_TRANSITIONS, TASK_A.transitions, TASK_B.transitions]) expect(() => validateTransitions(matrix)).not.toThrow();
  });

  it('refuses a row that does not sum to 1 or holds a non-probability', () => {
    const unbalanced: TransitionMatrix = { ...DEFAULT_TRANSITIONS, ranging: { ...DEFAULT_TRANSITIONS.ranging, ranging: 0.5 } };
    expect(() => validateTransitions(unbalanced)).toThrow(expect.objectContaining({ code: 'MARKET_OPTIONS', option: 'transitions.ranging' }));
    const negative: TransitionMatrix = { ...DEFAULT_TRANSITIONS, volatile: { ...DEFAULT_TRANSITIONS.volatile, ranging: -0.01, volatile: 0.99 } };
    expect(() => validateTransitions(negative)).toThrow(MarketOptionsError);
  });

  it('balances up and down in the default chain, so always-long has no edge', () => {
    const shares = stationaryDistribution(DEFAULT_TRANSITIONS);
    expect(shares['trending-up']).toBeCloseTo(shares['trending-down'], 9);
    expect(REGIMES.reduce((sum, r) => sum + shares[r], 0)).toBeCloseTo(1, 9);
  });

  it('spends most of task A trending and most of task B ranging', () => {
    const a = stationaryDistribution(TASK_A.transitions);
    const b = stationaryDistribution(TASK_B.transitions);
    expect(a['trending-up'] + a['trending-down']).toBeGreaterThan(0.75);
    expect(b.ranging).toBeGreaterThan(0.75);
  });

  it('draws regimes with the probabilities of the row', () => {
    const random = createRandom(4);
    const counts = Object.fromEntries(REGIMES.map((r) => [r, 0])) as Record<string, number>;
    const draws = 100_000;
    for (let i = 0; i < draws; i++) counts[drawRegime(DEFAULT_TRANSITIONS['trending-up'], random)]!++;
    for (const regime of REGIMES) expect(counts[regime]! / draws).toBeCloseTo(DEFAULT_TRANSITIONS['trending-up'][regime], 2);
  });
});
