import { describe, expect, it } from 'vitest';
import { DEFAULT_FEATURES, FeatureDefinitionError, FeatureStream, computeFeatures, featureSpace, marketCondition, type FeatureDefinition } from '../../src/learning/features.js';
import type { Bar } from '../../src/market/bars.js';
import { TASK_A } from '../../src/market/tasks.js';
import { randomWalk, simulatedAsset } from './support.js';

const space = featureSpace();

describe('feature vectors', () => {
  it('start once the lookback is filled and hold one finite component per name, clipped, with the anchor last', () => {
    const features = computeFeatures(randomWalk(1, 200), space);
    expect(features.findIndex((f) => f !== undefined)).toBe(space.lookback - 1);
    for (const vector of features.slice(space.lookback - 1)) {
      expect(vector).toHaveLength(space.dimensions);
      expect(space.names).toHaveLength(space.dimensions);
      for (const x of vector!.subarray(0, -1)) expect(Math.abs(x)).toBeLessThanOrEqual(DEFAULT_FEATURES.clip);
      expect(vector![space.dimensions - 1]).toBe(1);
    }
  });

  it('never look ahead: rewriting every bar after i leaves the vectors up to i unchanged', () => {
    const bars = simulatedAsset({ seed: 3, length: 300 }).bars;
    const before = computeFeatures(bars, space);
    for (const i of [space.lookback, 120, 250]) {
      const mutated: Bar[] = bars.map((bar, j) =>
        j <= i ? bar : { ...bar, open: bar.open * 3, high: bar.high * 5, low: bar.low * 0.5, close: bar.close * 2, volume: bar.volume * 9 },
      );
      const after = computeFeatures(mutated, space);
      expect(after.slice(0, i + 1)).toEqual(before.slice(0, i + 1));
      expect(after[i + 1]).not.toEqual(before[i + 1]);
    }
  });

  it('depend on the last `lookback` bars only, wherever the stream started', () => {
    const bars = simulatedAsset({ seed: 4, length: 300 }).bars;
    const whole = computeFeatures(bars, space);
    for (const i of [100, 299]) {
      const stream = new FeatureStream(space);
      let last: Float32Array | undefined;
      for (const bar of bars.slice(i - space.lookback + 1, i + 1)) last = stream.push(bar);
      expect(last).toEqual(whole[i]);
    }
  });

  it('are scale-free: the same market at another price level and volume gives the same vectors', () => {
    const bars = simulatedAsset({ seed: 5, length: 200 }).bars;
    const scaled = bars.map((b) => ({ ...b, open: b.open * 37, high: b.high * 37, low: b.low * 37, close: b.close * 37, volume: b.volume * 11 }));
    const a = computeFeatures(bars, space);
    const b = computeFeatures(scaled, space);
    for (let i = space.lookback - 1; i < bars.length; i++) {
      a[i]!.forEach((x, j) => expect(b[i]![j]).toBeCloseTo(x, 4));
    }
  });
});

describe('featureSpaceId', () => {
  it('is the same for the same definition', () => {
    expect(featureSpace({ ...DEFAULT_FEATURES }).id).toBe(space.id);
  });

  it('changes when any parameter of the definition changes', () => {
    const changes: Partial<FeatureDefinition>[] = [
      { returnLags: [1, 2, 3, 5] },
      { returnLags: [2, 1, 3, 5, 10] },
      { volatilityWindow: 11 },
      { longVolatilityWindow: 41 },
      { averageWindow: 21 },
      { rsiPeriod: 15 },
      { atrShortPeriod: 6 },
      { atrLongPeriod: 21 },
      { rangeWindow: 11 },
      { volumeWindow: 21 },
      { clip: 4 },
    ];
    const ids = changes.map((change) => featureSpace(change).id);
    expect(new Set([space.id, ...ids]).size).toBe(changes.length + 1);
  });

  it('refuses an invalid definition with a typed error naming the option', () => {
    expect(() => featureSpace({ rsiPeriod: 0 })).toThrow(FeatureDefinitionError);
    expect(() => featureSpace({ returnLags: [] })).toThrow(/returnLags/);
    expect(() => featureSpace({ clip: -1 })).toThrow(expect.objectContaining({ code: 'FEATURE_DEFINITION', option: 'clip' }));
  });
});

describe('market condition', () => {
  it('is read from the features: trending in a strong trend, volatile in a breakout, ranging in a quiet range', () => {
    const at = (values: Record<string, number>) => Float32Array.from(space.names, (name) => values[name] ?? (name === 'anchor' ? 1 : 0));
    expect(marketCondition(at({ return_10: 2.5, return_5: 2 }), space)).toBe('trending');
    expect(marketCondition(at({ return_10: 2.5, atr_ratio: 0.7 }), space)).toBe('volatile');
    expect(marketCondition(at({ return_10: 0.3, close_zscore: 1.2 }), space)).toBe('ranging');
  });

  it('labels most bars of a long momentum market as trending', () => {
    const features = computeFeatures(simulatedAsset({ seed: 6, length: 1000, ...TASK_A, initialRegime: 'trending-up' }).bars, space);
    const conditions = features.filter((f) => f !== undefined).map((f) => marketCondition(f, space));
    expect(conditions.filter((c) => c === 'trending').length / conditions.length).toBeGreaterThan(0.5);
  });
});
