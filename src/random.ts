import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64';
import { uniformInt } from 'pure-rand/distribution/uniformInt';
import { SwarmbankError } from './errors.js';

/**
 * Seeds a run may be given. The generator takes 32 bits, so a wider seed
 * would replay the int32 it wraps to; and a first draw below 2^31 (how
 * market seeds are drawn) sees only the seed's low 31 bits, so a negative
 * seed would replay the markets of its sum with 2^31. From 0 to 2^31−1 no
 * two seeds share a stream.
 */
export const MIN_SEED = 0;
export const MAX_SEED = 2 ** 31 - 1;

/** A seed that is not an integer from `MIN_SEED` to `MAX_SEED`. */
export class SeedError extends SwarmbankError {
  constructor(readonly seed: unknown) {
    super('INVALID_SEED', `seed must be an integer from ${MIN_SEED} to ${MAX_SEED}, got ${String(seed)}`);
  }
}

/** Whether `value` is a seed `createRandom` accepts: an integer from `MIN_SEED` to `MAX_SEED`. */
export function isSeed(value: unknown): value is number {
  return Number.isInteger(value) && (value as number) >= MIN_SEED && (value as number) <= MAX_SEED;
}

/** Refuses a seed `createRandom` would refuse, for callers that must fail before they create anything. */
export function assertSeed(seed: number): void {
  if (!isSeed(seed)) throw new SeedError(seed);
}

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
  assertSeed(seed);
  return seeded(seed);
}

/** Forks hash to any int32, negative ones included: only the seed a caller chooses is range-checked. */
function seeded(seed: number): Random {
  const rng = xoroshiro128plus(seed);
  return {
    seed,
    next: () => uniformFloat64(rng),
    int: (from, to) => uniformInt(rng, from, to),
    fork: (label) => seeded(mix(seed, label)),
  };
}

/**
 * FNV-1a over the label, folded with the seed: stable across runs and
 * platforms. Every step is a bijection on the low 31 bits, so for one label
 * distinct seeds below 2^31 get forks that differ there.
 */
function mix(seed: number, label: string): number {
  let hash = 0x811c9dc5 ^ seed;
  for (let i = 0; i < label.length; i++) {
    hash ^= label.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash | 0;
}
