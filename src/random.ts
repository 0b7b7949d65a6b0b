import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64';
import { uniformInt } from 'pure-rand/distribution/uniformInt';

/**
 * A seeded random source. Everything random in swarmbank (backoff jitter,
 * fault plans, the market simulator) draws from one of these, so a run is
 * reproducible from its seed.
 */
export interface Random {
  readonly seed: number;
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform integer in [from, to], both included. */
  int(from: number, to: number): number;
  /** An independent stream derived from this seed and a label, unaffected by draws on this one. */
  fork(label: string): Random;
}

export function createRandom(seed: number): Random {
  if (!Number.isSafeInteger(seed)) throw new RangeError(`seed must be a safe integer, got ${seed}`);
  const rng = xoroshiro128plus(seed | 0);
  return {
    seed,
    next: () => uniformFloat64(rng),
    int: (from, to) => uniformInt(rng, from, to),
    fork: (label) => createRandom(mix(seed, label)),
  };
}

/** FNV-1a over the label, folded with the seed: stable across runs and platforms. */
function mix(seed: number, label: string): number {
  let hash = 0x811c9dc5 ^ (seed | 0);
  for (let i = 0; i < label.length; i++) {
    hash ^= label.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash | 0;
}
