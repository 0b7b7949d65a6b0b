import type { Regime } from './regimes.js';

export type VolatilePhase = 'compression' | 'breakout';

/**
 * What the simulator knows after a bar closes and no observer of the bars
 * does: the regime in force and the parameters that set the next return.
 * Kept apart from `Bar` so features cannot read it by accident.
 */
export interface LatentState {
  readonly regime: Regime;
  /** Set only in the volatile regime. */
  readonly phase: VolatilePhase | undefined;
  /** Log drift per bar the current regime applies. */
  readonly drift: number;
  /** AR(1) coefficient pulling the deviation back; 1 where nothing pulls (trends, breakouts). */
  readonly reversion: number;
  /** Log distance of the close from the anchor it reverts to; 0 where nothing pulls. */
  readonly deviation: number;
}

/**
 * Expected log return over the next `horizon` bars if the regime holds:
 * h·drift from the trend plus (φ^h − 1)·deviation from the pull to the anchor.
 * The regime holds for h bars with probability ≥ 0.97^h under the shipped
 * chains, which is why the oracle may assume it.
 */
export function expectedLogReturn(state: LatentState, horizon = 1): number {
  return horizon * state.drift + (state.reversion ** horizon - 1) * state.deviation;
}
