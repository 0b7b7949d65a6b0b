import type { Random } from '../random.js';

/**
 * Exponential backoff between restarts: the n-th restart in a row waits
 * `minMs × factor^(n-1)`, capped at `maxMs`, then stretched by up to
 * `jitter` (a fraction) so that siblings that failed together do not restart
 * in lockstep. The cap applies after jitter, so `maxMs` is a true ceiling.
 */
export interface BackoffOptions {
  readonly minMs: number;
  readonly maxMs: number;
  readonly factor: number;
  readonly jitter: number;
}

export function backoffDelay(options: BackoffOptions, attempt: number, random: Random): number {
  const base = options.minMs * Math.pow(options.factor, Math.max(0, attempt - 1));
  const jittered = base * (1 + options.jitter * random.next());
  return Math.round(Math.min(options.maxMs, jittered));
}
