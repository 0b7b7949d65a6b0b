import { describe, expect, it } from 'vitest';
import { featureSpace } from '../../src/learning/features.js';
import { StrategyLearner } from '../../src/topologies/strategy-learners.js';

const space = featureSpace();

function vector(values: Record<string, number>): Float32Array {
  const x = new Float32Array(space.dimensions);
  for (const [name, value] of Object.entries(values)) x[space.names.indexOf(name)] = value;
  x[space.names.indexOf('anchor')] = 1;
  return x;
}

describe('strategy learners', () => {
  it('start from their rules: momentum follows the move, mean reversion fades it, breakout waits for expanding volatility', async () => {
    const momentum = await StrategyLearner.open('momentum', { space });
    const reversion = await StrategyLearner.open('mean-reversion', { space });
    const breakout = await StrategyLearner.open('breakout', { space });
    const rally = vector({ return_1: 1, return_2: 1.2, return_5: 1.5, close_zscore: 1.8 });
    expect(momentum.predict(rally).direction).toBe(1);
    expect(reversion.predict(rally).direction).toBe(-1);
    // Quiet volatility: the breakout rule has no opinion.
    expect(breakout.predict(rally).position).toBe('flat');
    expect(breakout.predict(vector({ return_2: 1.2, volatility_ratio: 0.6 })).direction).toBe(1);
    expect(breakout.predict(vector({ return_2: -1.2, atr_ratio: 0.6 })).direction).toBe(-1);
  });

  it('let confident patterns overrule the rule where it keeps failing', async () => {
    const reversion = await StrategyLearner.open('mean-reversion', { space, agentId: 'mr' });
    const trend = vector({ return_1: 0.4, return_2: 0.4, return_5: 0.5, close_zscore: 0.4 });
    expect(reversion.predict(trend).direction).toBe(-1);
    for (let i = 0; i < 20; i++) reversion.learn(trend, 1);
    expect(reversion.predict(trend).direction).toBe(1);
    expect(reversion.exportPatterns().every((p) => p.origin === 'mr' && p.featureSpaceId === space.id)).toBe(true);
  });
});
