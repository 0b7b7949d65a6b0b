/**
 * What the reference says a scenario achieves. Its figures were never
 * measured; we put ours beside them and say which side of the range we land.
 */
export interface Claim {
  readonly metric: string;
  /** As the reference words it. */
  readonly claim: string;
  readonly low: number;
  readonly high: number;
  readonly better: 'higher' | 'lower';
  /** How the figures read: a count of episodes, seconds, or a share (0.85 = 85%). */
  readonly unit: 'episodes' | 'seconds' | 'share';
}

export type Verdict = 'within' | 'better' | 'worse' | 'not-reached';

export interface ClaimCheck extends Claim {
  /** `null` when the run never got there (e.g. never converged). */
  readonly measured: number | null;
  readonly verdict: Verdict;
}

export function checkClaim(claim: Claim, measured: number | null): ClaimCheck {
  if (measured === null || Number.isNaN(measured)) return { ...claim, measured: null, verdict: 'not-reached' };
  const verdict: Verdict =
    measured >= claim.low && measured <= claim.high
      ? 'within'
      : (measured > claim.high) === (claim.better === 'higher')
        ? 'better'
        : 'worse';
  return { ...claim, measured, verdict };
}

export const REFERENCE_CLAIMS = {
  'cold-start': {
    convergence: { metric: 'convergence (episodes)', claim: '~50-70 episodes', low: 50, high: 70, better: 'lower', unit: 'episodes' },
    accuracy: { metric: 'final accuracy', claim: '~70-80%', low: 0.7, high: 0.8, better: 'higher', unit: 'share' },
    duration: { metric: 'training duration (s)', claim: '~60-90s', low: 60, high: 90, better: 'lower', unit: 'seconds' },
  },
  'warm-start': {
    convergence: { metric: 'convergence (episodes)', claim: '~20-30 episodes', low: 20, high: 30, better: 'lower', unit: 'episodes' },
    speedup: { metric: 'faster than cold', claim: '40-60% faster', low: 0.4, high: 0.6, better: 'higher', unit: 'share' },
    speedupNearOracle: { metric: 'faster than cold, to 95% of the oracle', claim: '40-60% faster', low: 0.4, high: 0.6, better: 'higher', unit: 'share' },
    accuracy: { metric: 'final accuracy', claim: '~75-85%', low: 0.75, high: 0.85, better: 'higher', unit: 'share' },
    duration: { metric: 'training duration (s)', claim: '~30-45s', low: 30, high: 45, better: 'lower', unit: 'seconds' },
  },
  transfer: {
    convergence: { metric: 'convergence (episodes)', claim: '~15-25 episodes', low: 15, high: 25, better: 'lower', unit: 'episodes' },
    speedup: { metric: 'faster than cold', claim: '50-70% faster', low: 0.5, high: 0.7, better: 'higher', unit: 'share' },
    speedupNearOracle: { metric: 'faster than cold, to 95% of the oracle', claim: '50-70% faster', low: 0.5, high: 0.7, better: 'higher', unit: 'share' },
    accuracy: { metric: 'final accuracy', claim: '~80-90%', low: 0.8, high: 0.9, better: 'higher', unit: 'share' },
    duration: { metric: 'transfer duration (s)', claim: '~20-40s', low: 20, high: 40, better: 'lower', unit: 'seconds' },
  },
  continual: {
    accuracy: { metric: 'final accuracy', claim: '~75-85%', low: 0.75, high: 0.85, better: 'higher', unit: 'share' },
    return: { metric: 'return over the period', claim: '~1-2%', low: 0.01, high: 0.02, better: 'higher', unit: 'share' },
    plateau: { metric: 'late − early daily accuracy', claim: 'no convergence plateau', low: 0, high: Number.POSITIVE_INFINITY, better: 'higher', unit: 'share' },
  },
  forgetting: {
    retention: { metric: 'retention', claim: '~80-90%', low: 0.8, high: 0.9, better: 'higher', unit: 'share' },
    prevented: { metric: 'retention gained over the unprotected run', claim: 'forgetting prevented', low: Number.MIN_VALUE, high: Number.POSITIVE_INFINITY, better: 'higher', unit: 'share' },
    memory: { metric: 'memory reduction', claim: '30-50% reduction', low: 0.3, high: 0.5, better: 'higher', unit: 'share' },
  },
} as const satisfies Record<string, Record<string, Claim>>;
