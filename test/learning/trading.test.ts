import { describe, expect, it } from 'vitest';
import type { Prediction } from '../../src/learning/learner.js';
import {
  buyAndHold,
  exposuresFromPredictions,
  holdForHorizon,
  predictionExposure,
  sharpeRatio,
  simulateTrading,
  TradingInputError,
  TradingLedger,
} from '../../src/learning/trading.js';
import type { Bar } from '../../src/market/bars.js';
import { createRandom } from '../../src/random.js';

/** Bars from closes alone: trading reads nothing else. */
function barsFrom(closes: readonly number[]): Bar[] {
  return closes.map((close, i) => ({ time: i * 86_400_000, open: close, high: close, low: close, close, volume: 0 }));
}

/** 100 → 101 → 99.99: +1% then −1%. */
const upDown = barsFrom([100, 101, 99.99]);

describe('positions from predictions', () => {
  const long: Prediction = { direction: 1, confidence: 0.4, position: 'long' };
  const short: Prediction = { direction: -1, confidence: 0.25, position: 'short' };
  const flat: Prediction = { direction: 0, confidence: 0, position: 'flat' };

  it('maps long, short and flat to +1, −1 and 0, or scales them by confidence', () => {
    expect(exposuresFromPredictions([long, short, flat])).toEqual([1, -1, 0]);
    expect(exposuresFromPredictions([long, short, flat], 'confidence')).toEqual([0.4, -0.25, 0]);
    expect(predictionExposure({ direction: 1, confidence: 1.5, position: 'long' }, 'confidence')).toBe(1);
  });

  it('holds each decision for the horizon', () => {
    expect(holdForHorizon([1, -1], 3)).toEqual([1, 1, 1, -1, -1, -1]);
    expect(() => holdForHorizon([1], 0)).toThrow(TradingInputError);
  });
});

describe('simulateTrading on hand-built bars', () => {
  it('long through +1% then −1% ends at 1.01 × 0.99, with the drop measured from the peak', () => {
    const report = simulateTrading(upDown, [1, 1]);
    expect(report.returns[0]).toBeCloseTo(0.01, 15);
    expect(report.returns[1]).toBeCloseTo(-0.01, 15);
    expect(report.equityCurve).toHaveLength(3);
    expect(report.equity).toBeCloseTo(0.9999, 15);
    expect(report.totalReturn).toBeCloseTo(-0.0001, 15);
    expect(report.maxDrawdown).toBeCloseTo(0.01, 15);
    expect(report.trades).toBe(1);
    expect(report.hitRate).toBe(0.5);
  });

  it('short through the same bars ends at 0.99 × 1.01, its drawdown the first bar', () => {
    const report = simulateTrading(upDown, [-1, -1]);
    expect(report.equityCurve[1]).toBeCloseTo(0.99, 15);
    expect(report.equity).toBeCloseTo(0.9999, 15);
    expect(report.maxDrawdown).toBeCloseTo(0.01, 15);
    expect(report.hitRate).toBe(0.5);
  });

  it('flat earns nothing, trades nothing and has no hit rate or Sharpe', () => {
    const report = simulateTrading(upDown, [0, 0], { costBps: 10 });
    expect(report.equityCurve).toEqual([1, 1, 1]);
    expect(report.totalReturn).toBe(0);
    expect(report.maxDrawdown).toBe(0);
    expect(report.trades).toBe(0);
    expect(report.hitRate).toBeNaN();
    expect(report.sharpe).toBeNaN();
  });

  it('long then short catches both moves', () => {
    const report = simulateTrading(upDown, [1, -1]);
    expect(report.equity).toBeCloseTo(1.01 * 1.01, 15);
    expect(report.maxDrawdown).toBe(0);
    expect(report.hitRate).toBe(1);
  });

  it('a confidence-sized position earns its fraction of the move', () => {
    const report = simulateTrading(upDown, [0.5, 0.5]);
    expect(report.equity).toBeCloseTo(1.005 * 0.995, 15);
  });
});

describe('costs', () => {
  const c = 0.001;
  const flatBars = barsFrom([100, 100, 100, 100, 100]);

  it('are charged on every change and only on changes, a flip paying twice', () => {
    // Prices do not move, so equity falls by exactly the costs: enter 1, hold, flip 2, exit 1.
    const report = simulateTrading(flatBars, [1, 1, -1, 0], { costBps: 10 });
    expect(report.returns[0]).toBeCloseTo(-c, 15);
    expect(report.returns[1]).toBe(0);
    expect(report.returns[2]).toBeCloseTo(-2 * c, 15);
    expect(report.returns[3]).toBeCloseTo(-c, 15);
    expect(report.equity).toBeCloseTo((1 - c) * (1 - 2 * c) * (1 - c), 15);
    expect(report.trades).toBe(3);
    expect(report.turnover).toBe(4);
  });

  it('are taken from equity at the close where the position changes, before the bar it is then held over', () => {
    const report = simulateTrading(upDown, [1, -1], { costBps: 10 });
    expect(report.equity).toBeCloseTo((1 - c) * 1.01 * (1 - 2 * c) * 1.01, 15);
  });

  it('scale with the size of the change', () => {
    const report = simulateTrading(flatBars, [0.5, -0.25, -0.25, 0], { costBps: 10 });
    expect(report.equity).toBeCloseTo((1 - 0.5 * c) * (1 - 0.75 * c) * (1 - 0.25 * c), 15);
    expect(report.turnover).toBe(1.5);
  });
});

describe('sharpe ratio', () => {
  it('is mean / sample std × √barsPerYear', () => {
    const returns = [0.01, -0.02, 0.03, 0];
    const mean = 0.005;
    const std = Math.sqrt(returns.reduce((s, r) => s + (r - mean) ** 2, 0) / 3);
    expect(sharpeRatio(returns)).toBeCloseTo((mean / std) * Math.sqrt(252), 12);
    expect(sharpeRatio(returns, 52)).toBeCloseTo((mean / std) * Math.sqrt(52), 12);
  });

  it('is NaN for a constant-return series, even when rounding makes the returns differ in the last bit', () => {
    // Closes priced from the start (100 × 1.01^i), not step by step, so the returns differ in the last bit and a naive Sharpe is ~1e15.
    const closes = Array.from({ length: 51 }, (_, i) => 100 * 1.01 ** i);
    const report = simulateTrading(barsFrom(closes), new Array<number>(50).fill(1));
    expect(new Set(report.returns).size).toBeGreaterThan(1);
    expect(report.sharpe).toBeNaN();
    expect(sharpeRatio([0.01, 0.01, 0.01])).toBeNaN();
    expect(sharpeRatio([0.01])).toBeNaN();
  });
});

describe('max drawdown', () => {
  it('is measured from the running peak, not from the start', () => {
    // Equity 1 → 1.5 → 1.2 → 1.8 → 0.9 → 1.0: the worst fall is 1.8 → 0.9, half the peak.
    const report = simulateTrading(barsFrom([100, 150, 120, 180, 90, 100]), [1, 1, 1, 1, 1]);
    expect(report.equityCurve.map((e) => Number(e.toFixed(12)))).toEqual([1, 1.5, 1.2, 1.8, 0.9, 1]);
    expect(report.maxDrawdown).toBeCloseTo(0.5, 15);
  });

  it('counts the starting equity as a peak', () => {
    const report = simulateTrading(barsFrom([100, 80, 90]), [1, 1]);
    expect(report.maxDrawdown).toBeCloseTo(0.2, 15);
  });
});

describe('buyAndHold', () => {
  it('equals the compounded close-to-close returns minus one entry cost', () => {
    const random = createRandom(7);
    const closes = [100];
    for (let i = 0; i < 200; i++) closes.push(closes[i]! * (1 + 0.02 * (random.next() - 0.5)));
    const bars = barsFrom(closes);
    const report = buyAndHold(bars, { costBps: 5 });
    let compounded = 1;
    for (let i = 1; i < closes.length; i++) compounded *= closes[i]! / closes[i - 1]!;
    expect(report.equity).toBeCloseTo((1 - 0.0005) * compounded, 12);
    expect(report.equity).toBeCloseTo((1 - 0.0005) * (closes[200]! / closes[0]!), 12);
    expect(report.trades).toBe(1);
    expect(report.steps).toBe(200);
  });
});

describe('TradingLedger', () => {
  it('reports what simulateTrading reports, bar by bar, on random prices and positions', () => {
    for (const seed of [1, 2, 3]) {
      const random = createRandom(seed);
      const closes = [100];
      for (let i = 0; i < 500; i++) closes.push(closes[i]! * Math.exp(0.02 * (random.next() - 0.5)));
      const bars = barsFrom(closes);
      const exposures = Array.from({ length: 500 }, () => (random.next() < 0.2 ? random.next() * 2 - 1 : random.int(-1, 1)));
      const batch = simulateTrading(bars, exposures, { costBps: 3, barsPerYear: 365 });
      const ledger = new TradingLedger({ costBps: 3, barsPerYear: 365 });
      for (let t = 0; t < exposures.length; t++) expect(ledger.step(exposures[t]!, bars[t]!, bars[t + 1]!)).toBe(batch.returns[t]);
      const { sharpe, ...online } = ledger.summary();
      const { sharpe: batchSharpe, returns: _returns, equityCurve: _curve, ...offline } = batch;
      expect(online).toEqual(offline);
      expect(sharpe).toBeCloseTo(batchSharpe, 9);
      expect(ledger.exposure).toBe(exposures[499]);
    }
  });

  it('carries the held exposure across calls, so holding costs nothing and a flip costs double', () => {
    const [a, b, c] = barsFrom([100, 100, 100]);
    const ledger = new TradingLedger({ costBps: 100 });
    expect(ledger.step(1, a!, b!)).toBeCloseTo(-0.01, 15);
    expect(ledger.step(1, b!, c!)).toBe(0);
    expect(ledger.step(-1, b!, c!)).toBeCloseTo(-0.02, 15);
    expect(ledger.summary().trades).toBe(2);
  });

  it('is NaN-safe on a constant return series and before two steps', () => {
    const [a, b] = barsFrom([100, 101]);
    const ledger = new TradingLedger();
    expect(ledger.summary().sharpe).toBeNaN();
    for (let i = 0; i < 10; i++) ledger.step(1, a!, b!);
    expect(ledger.summary().sharpe).toBeNaN();
  });

  it('leaves its state unchanged when a step is refused', () => {
    const [a, b] = barsFrom([100, 101]);
    const ledger = new TradingLedger({ costBps: 10 });
    ledger.step(1, a!, b!);
    const before = ledger.summary();
    expect(() => ledger.step(-1, a!, { ...b!, close: Number.NaN })).toThrow(TradingInputError);
    expect(ledger.summary()).toEqual(before);
    expect(ledger.exposure).toBe(1);
  });
});

describe('bad input', () => {
  it('gives a TradingInputError naming the field', () => {
    const cases: [() => unknown, string][] = [
      [() => simulateTrading(upDown, [1]), 'exposures'],
      [() => simulateTrading(upDown, [1, 1, 1]), 'exposures'],
      [() => simulateTrading([], []), 'exposures'],
      [() => simulateTrading(barsFrom([100, Number.POSITIVE_INFINITY, 99]), [1, 1]), 'bars[1]'],
      [() => simulateTrading(barsFrom([100, 0, 99]), [1, 1]), 'bars[1]'],
      [() => simulateTrading(upDown, [1, Number.NaN]), 'exposures[1]'],
      [() => simulateTrading(upDown, [1, 2]), 'exposures[1]'],
      [() => simulateTrading(upDown, [1, 1], { costBps: -1 }), 'costBps'],
      [() => simulateTrading(upDown, [1, 1], { costBps: Number.NaN }), 'costBps'],
      [() => simulateTrading(upDown, [1, 1], { barsPerYear: 0 }), 'barsPerYear'],
      [() => new TradingLedger({ costBps: -5 }), 'costBps'],
      [() => new TradingLedger().step(Number.NaN, upDown[0]!, upDown[1]!), 'exposure'],
      [() => predictionExposure({ direction: 1, confidence: 1, position: 'long' }, 'kelly' as 'unit'), 'sizing'],
    ];
    for (const [run, field] of cases) {
      let thrown: unknown;
      try {
        run();
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(TradingInputError);
      expect(thrown).toMatchObject({ code: 'TRADING_INPUT', field });
    }
  });
});
