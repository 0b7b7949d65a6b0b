import type { Random } from '../random.js';
import { MarketOptionsError } from './errors.js';

/**
 * The latent market conditions. `volatile` has two phases of its own
 * (compression, then breakout); see `dynamics.ts`.
 */
export const REGIMES = ['trending-up', 'trending-down', 'ranging', 'volatile'] as const;
export type Regime = (typeof REGIMES)[number];

/** Row = regime now, column = regime on the next bar, both in `REGIMES` order. Each row sums to 1. */
export type TransitionMatrix = Readonly<Record<Regime, Readonly<Record<Regime, number>>>>;

/**
 * Per-bar switching probabilities of the default market.
 *
 * | from \ to     | up    | down  | ranging | volatile | mean stay |
 * |---------------|-------|-------|---------|----------|-----------|
 * | trending-up   | 0.970 | 0.005 | 0.015   | 0.010    | 33 bars   |
 * | trending-down | 0.005 | 0.970 | 0.015   | 0.010    | 33 bars   |
 * | ranging       | 0.010 | 0.010 | 0.970   | 0.010    | 33 bars   |
 * | volatile      | 0.010 | 0.010 | 0.010   | 0.970    | 33 bars   |
 *
 * A stay of ~33 bars means a 64-bar episode usually holds one or two regimes,
 * so a learner must recognise the regime from the bars rather than memorise
 * one. Direct up↔down flips are rarer than passing through ranging, as in real
 * tops and bottoms. Stationary shares: up 22%, down 22%, ranging 31%,
 * volatile 25%; up and down balance, so always-long sits near 0.5.
 */
export const DEFAULT_TRANSITIONS: TransitionMatrix = {
  'trending-up': { 'trending-up': 0.97, 'trending-down': 0.005, ranging: 0.015, volatile: 0.01 },
  'trending-down': { 'trending-up': 0.005, 'trending-down': 0.97, ranging: 0.015, volatile: 0.01 },
  ranging: { 'trending-up': 0.01, 'trending-down': 0.01, ranging: 0.97, volatile: 0.01 },
  volatile: { 'trending-up': 0.01, 'trending-down': 0.01, ranging: 0.01, volatile: 0.97 },
};

const TOLERANCE = 1e-9;

export function validateTransitions(matrix: TransitionMatrix, option = 'transitions'): void {
  for (const from of REGIMES) {
    const row = matrix[from];
    if (row === undefined) throw new MarketOptionsError(option, `missing row ${from}`);
    let sum = 0;
    for (const to of REGIMES) {
      const p = row[to];
      if (p === undefined || !Number.isFinite(p) || p < 0 || p > 1) {
        throw new MarketOptionsError(`${option}.${from}.${to}`, `must be a probability in [0, 1], got ${String(p)}`);
      }
      sum += p;
    }
    if (Math.abs(sum - 1) > TOLERANCE) throw new MarketOptionsError(`${option}.${from}`, `row must sum to 1, sums to ${sum}`);
  }
}

/** The long-run share of bars in each regime, by power iteration (the chains here mix in a few hundred steps). */
export function stationaryDistribution(matrix: TransitionMatrix): Record<Regime, number> {
  let dist = Object.fromEntries(REGIMES.map((r) => [r, 1 / REGIMES.length])) as Record<Regime, number>;
  for (let step = 0; step < 10_000; step++) {
    const next = Object.fromEntries(REGIMES.map((r) => [r, 0])) as Record<Regime, number>;
    for (const from of REGIMES) for (const to of REGIMES) next[to] += dist[from] * matrix[from][to];
    const change = REGIMES.reduce((acc, r) => acc + Math.abs(next[r] - dist[r]), 0);
    dist = next;
    if (change < 1e-13) break;
  }
  return dist;
}

/** Draws a regime from a distribution over `REGIMES` with one uniform, so the draw count per bar is fixed. */
export function drawRegime(distribution: Readonly<Record<Regime, number>>, random: Random): Regime {
  const u = random.next();
  let cumulative = 0;
  for (const regime of REGIMES) {
    cumulative += distribution[regime];
    if (u < cumulative) return regime;
  }
  // Rounding can leave the cumulative sum a hair under 1; the last regime with any mass takes the remainder.
  return [...REGIMES].reverse().find((r) => distribution[r] > 0) ?? REGIMES[3];
}
