import { describe, expect, it } from 'vitest';
import { DEFAULT_ASSETS } from '../../src/market/assets.js';
import { barProblem } from '../../src/market/bars.js';
import { DEFAULT_DYNAMICS } from '../../src/market/dynamics.js';
import { MarketOptionsError } from '../../src/market/errors.js';
import { REGIMES } from '../../src/market/regimes.js';
import { DEFAULT_LENGTH, simulateMarket } from '../../src/market/simulator.js';

describe('simulateMarket', () => {
  it('produces identical bars, latent states and VIX, bit for bit, from the same seed', () => {
    const first = simulateMarket({ seed: 42 });
    const second = simulateMarket({ seed: 42 });
    expect(second).toStrictEqual(first);
    const closes = (m: typeof first) => m.assets.flatMap((a) => a.bars.map((b) => b.close));
    expect(new Float64Array(closes(second)).buffer).toStrictEqual(new Float64Array(closes(first)).buffer);
  });

  it('produces different bars from different seeds', () => {
    const a = simulateMarket({ seed: 1, length: 200 }).assets[0]!.bars;
    const b = simulateMarket({ seed: 2, length: 200 }).assets[0]!.bars;
    const same = a.filter((bar, i) => bar.close === b[i]!.close).length;
    expect(same).toBeLessThan(2);
  });

  it('gives each asset its own stream, so adding an asset leaves the others unchanged', () => {
    const [alpha, beta] = DEFAULT_ASSETS;
    const alone = simulateMarket({ seed: 9, length: 300, assets: [beta!] }).assets[0]!;
    const together = simulateMarket({ seed: 9, length: 300, assets: [alpha!, beta!] }).assets[1]!;
    expect(together).toStrictEqual(alone);
  });

  it('simulates every default asset at its own scale, with its own regime path', () => {
    const market = simulateMarket({ seed: 3 });
    expect(market.assets.map((a) => a.spec.id)).toEqual(DEFAULT_ASSETS.map((a) => a.id));
    for (const asset of market.assets) {
      expect(asset.bars).toHaveLength(DEFAULT_LENGTH);
      expect(asset.latent).toHaveLength(DEFAULT_LENGTH);
      expect(asset.vix).toHaveLength(DEFAULT_LENGTH);
      expect(asset.bars[0]!.open).toBe(asset.spec.initialPrice);
    }
    const regimePaths = market.assets.map((a) => a.latent.map((s) => s.regime).join());
    expect(new Set(regimePaths).size).toBe(market.assets.length);
  });

  it('keeps every bar well formed: high ≥ max(open, close) ≥ min(open, close) ≥ low > 0, volume > 0', () => {
    for (const seed of [1, 2, 3]) {
      for (const asset of simulateMarket({ seed, length: 3_000 }).assets) {
        const problems = asset.bars.map(barProblem).filter((p) => p !== undefined);
        expect(problems).toEqual([]);
        expect(asset.bars.every((b) => b.volume >= 1 && Number.isInteger(b.volume))).toBe(true);
      }
    }
  });

  it('opens each bar at the previous close, one day apart', () => {
    const bars = simulateMarket({ seed: 5, length: 100 }).assets[0]!.bars;
    for (let i = 1; i < bars.length; i++) {
      expect(bars[i]!.open).toBe(bars[i - 1]!.close);
      expect(bars[i]!.time - bars[i - 1]!.time).toBe(86_400_000);
    }
  });

  it('visits every regime, and a volatile stretch compresses before it breaks out', () => {
    const latent = simulateMarket({ seed: 8, length: 5_000 }).assets[0]!.latent;
    expect(new Set(latent.map((s) => s.regime))).toEqual(new Set(REGIMES));
    for (let i = 1; i < latent.length; i++) {
      const [before, now] = [latent[i - 1]!, latent[i]!];
      if (now.regime === 'volatile' && before.regime !== 'volatile') expect(['compression', 'breakout']).toContain(now.phase);
      if (before.phase === 'breakout' && now.regime === 'volatile') expect(now.phase).toBe('breakout');
      if (now.regime !== 'volatile') expect(now.phase).toBeUndefined();
    }
    const breakouts = latent.filter((s) => s.phase === 'breakout').length;
    const compressions = latent.filter((s) => s.phase === 'compression').length;
    expect(breakouts).toBeGreaterThan(0);
    expect(compressions).toBeGreaterThan(0);
  });

  it('refuses options out of range, naming the option', () => {
    const cases: [Parameters<typeof simulateMarket>[0], string][] = [
      [{ seed: 1, length: 0 }, 'length'],
      [{ seed: 1, assets: [] }, 'assets'],
      [{ seed: 1, assets: [{ id: 'X', initialPrice: -1, volatility: 0.01, baseVolume: 1 }] }, 'assets.X.initialPrice'],
      [{ seed: 1, assets: [DEFAULT_ASSETS[0]!, DEFAULT_ASSETS[0]!] }, 'assets'],
      [{ seed: 1, volatilityProfile: [{ bars: 0, scale: 1 }] }, 'volatilityProfile[0].bars'],
      [{ seed: 1, dynamics: { ...DEFAULT_DYNAMICS, rangingReversion: 1 } }, 'dynamics.rangingReversion'],
      [{ seed: 1, dynamics: { ...DEFAULT_DYNAMICS, breakoutProbability: 2 } }, 'dynamics.breakoutProbability'],
    ];
    for (const [options, option] of cases) {
      const error = catchError(() => simulateMarket(options));
      expect(error).toBeInstanceOf(MarketOptionsError);
      expect(error).toMatchObject({ code: 'MARKET_OPTIONS', option });
    }
  });
});

function catchError(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error');
}
