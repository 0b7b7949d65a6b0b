import { DEFAULT_DYNAMICS, type MarketDynamics } from './dynamics.js';
import type { TransitionMatrix } from './regimes.js';

/** A named market for the forgetting scenario; spread into `simulateMarket` options. */
export interface MarketTask {
  readonly dynamics: MarketDynamics;
  readonly transitions: TransitionMatrix;
}

/**
 * Task A, momentum: trends last ~50 bars and cover ~83% of the time; ranges
 * are brief. The next bar mostly continues the last one.
 *
 * | from \ to     | up    | down  | ranging | volatile |
 * |---------------|-------|-------|---------|----------|
 * | trending-up   | 0.980 | 0.004 | 0.008   | 0.008    |
 * | trending-down | 0.004 | 0.980 | 0.008   | 0.008    |
 * | ranging       | 0.040 | 0.040 | 0.910   | 0.010    |
 * | volatile      | 0.040 | 0.040 | 0.010   | 0.910    |
 *
 * Dynamics: the defaults (a trend bar moves with the trend with Φ(1.6) ≈ 0.945).
 */
export const TASK_A: MarketTask = {
  dynamics: DEFAULT_DYNAMICS,
  transitions: {
    'trending-up': { 'trending-up': 0.98, 'trending-down': 0.004, ranging: 0.008, volatile: 0.008 },
    'trending-down': { 'trending-up': 0.004, 'trending-down': 0.98, ranging: 0.008, volatile: 0.008 },
    ranging: { 'trending-up': 0.04, 'trending-down': 0.04, ranging: 0.91, volatile: 0.01 },
    volatile: { 'trending-up': 0.04, 'trending-down': 0.04, ranging: 0.01, volatile: 0.91 },
  },
};

/**
 * Task B, mean reversion: the swap of A. Ranges last ~50 bars and cover ~80%
 * of the time, with a stronger overshoot (φ = −0.7: consecutive ranging returns
 * correlate at (φ − 1)/2 = −0.85, so ≈ 0.82 of them reverse the last move);
 * trends are brief. A rule that follows the last move
 * — what A rewards — is wrong on most of B's bars.
 *
 * | from \ to     | up    | down  | ranging | volatile |
 * |---------------|-------|-------|---------|----------|
 * | trending-up   | 0.910 | 0.010 | 0.070   | 0.010    |
 * | trending-down | 0.010 | 0.910 | 0.070   | 0.010    |
 * | ranging       | 0.008 | 0.008 | 0.980   | 0.004    |
 * | volatile      | 0.010 | 0.010 | 0.070   | 0.910    |
 */
export const TASK_B: MarketTask = {
  dynamics: { ...DEFAULT_DYNAMICS, rangingReversion: -0.7, compressionReversion: -0.7 },
  transitions: {
    'trending-up': { 'trending-up': 0.91, 'trending-down': 0.01, ranging: 0.07, volatile: 0.01 },
    'trending-down': { 'trending-up': 0.01, 'trending-down': 0.91, ranging: 0.07, volatile: 0.01 },
    ranging: { 'trending-up': 0.008, 'trending-down': 0.008, ranging: 0.98, volatile: 0.004 },
    volatile: { 'trending-up': 0.01, 'trending-down': 0.01, ranging: 0.07, volatile: 0.91 },
  },
};
