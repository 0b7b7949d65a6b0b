import { describe, expect, it } from 'vitest';
import { consensus } from '../../src/topologies/vote.js';

describe('consensus', () => {
  it('decides when at least the threshold of live agents agree', () => {
    expect(consensus([1, 1, 1, -1, 0], 5, 0.6)).toBe(1);
    expect(consensus([-1, -1, -1, -1, 1], 5, 0.67)).toBe(-1);
  });

  it('abstains below the threshold, flat agents counting as live but for neither side', () => {
    expect(consensus([1, 1, 1, 0, 0], 5, 0.67)).toBe(0);
    expect(consensus([1, 1, -1, -1], 4, 0.5)).toBe(0);
  });

  it('takes the threshold over the live agents only', () => {
    expect(consensus([1, 1], 2, 0.67)).toBe(1);
    expect(consensus([], 0, 0.5)).toBe(0);
  });
});
