import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach } from 'vitest';
import type { Bar } from '../../src/market/bars.js';
import { gaussian } from '../../src/market/gaussian.js';
import { simulateMarket, type MarketOptions, type SimulatedAsset } from '../../src/market/simulator.js';
import { openPatternMemory, type PatternMemory } from '../../src/memory/store.js';
import { createRandom } from '../../src/random.js';
import type { FeatureSpace } from '../../src/learning/features.js';

/** Unique temp directories and the memories opened in them, closed and removed after each test. */
export function useLearningFixture() {
  const dirs: string[] = [];
  const opened: PatternMemory[] = [];
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((memory) => memory.close().catch(() => undefined)));
    for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
  });
  return {
    async memory(space: FeatureSpace, dir?: string): Promise<PatternMemory> {
      const where = dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'swarmbank-learning-'));
      if (dir === undefined) dirs.push(where);
      const memory = await openPatternMemory({ path: where, dimensions: space.dimensions, featureSpaceId: space.id });
      opened.push(memory);
      return memory;
    },
  };
}

/** One simulated asset at σ = 1% per bar. */
export function simulatedAsset(options: Omit<MarketOptions, 'assets'>): SimulatedAsset {
  return simulateMarket({ ...options, assets: [{ id: 'ALPHA', initialPrice: 100, volatility: 0.01, baseVolume: 1_000_000 }] }).assets[0]!;
}

/** A pure random walk: i.i.d. Gaussian log returns, wicks and volumes, so no feature can carry information about the next bar. */
export function randomWalk(seed: number, length: number): Bar[] {
  const random = createRandom(seed);
  const bars: Bar[] = [];
  let close = 100;
  for (let i = 0; i < length; i++) {
    const open = close;
    close = open * Math.exp(0.01 * gaussian(random));
    const high = Math.max(open, close) * Math.exp(0.003 * Math.abs(gaussian(random)));
    const low = Math.min(open, close) * Math.exp(-0.003 * Math.abs(gaussian(random)));
    bars.push({ time: i * 86_400_000, open, high, low, close, volume: Math.round(1_000_000 * Math.exp(0.25 * gaussian(random))) });
  }
  return bars;
}

/**
 * The same market upside down: every log return negated (price K/p), highs
 * and lows swapped. Under symmetric dynamics it is as likely as the original,
 * and together the two have as many up moves as down ones, so any predictor
 * that ignores the features scores exactly 0.5 on the pair.
 */
export function mirrored(bars: readonly Bar[]): Bar[] {
  const k = bars[0]!.open ** 2;
  return bars.map((b) => ({ time: b.time, open: k / b.open, high: k / b.low, low: k / b.high, close: k / b.close, volume: b.volume }));
}
