import { describe, expect, it } from 'vitest';
import { createRandom, MAX_SEED, MIN_SEED, SeedError, type Random } from '../src/random.js';

function draws(random: Random): unknown[] {
  return [random.next(), random.int(0, 1_000_000), random.fork('market').int(0, 2 ** 31 - 1)];
}

describe('createRandom', () => {
  it('gives the same stream from the same seed, forks included', () => {
    expect(draws(createRandom(42))).toEqual(draws(createRandom(42)));
  });

  it('keeps the streams seeds from 0 to 2^31−1 have always had', () => {
    // Drawn before seeds were range-checked: committed reports were made from these streams.
    expect(draws(createRandom(1))).toEqual([0.9999999832216382, 899947, 1046960907]);
    expect(draws(createRandom(MAX_SEED))).toEqual([1.862646814565494e-9, 884029, 1471709021]);
  });

  it('accepts every integer seed from MIN_SEED = 0 to MAX_SEED = 2^31−1', () => {
    expect([MIN_SEED, MAX_SEED]).toEqual([0, 2 ** 31 - 1]);
    for (const seed of [MIN_SEED, 1, 2 ** 30, MAX_SEED]) expect(createRandom(seed).seed).toBe(seed);
  });

  it('refuses, with a typed error, a seed that would replay another seed rather than run it', () => {
    for (const [seed, twin] of [
      [2 ** 32, 0],
      [7 + 2 ** 40, 7],
      [Number.MAX_SAFE_INTEGER, MAX_SEED],
      [MAX_SEED + 1, 0],
      [-1, MAX_SEED],
      [5 - 2 ** 31, 5],
      [-(2 ** 31), 0],
    ]) {
      expect(() => createRandom(twin!)).not.toThrow();
      const error = catchError(() => createRandom(seed!));
      expect(error).toBeInstanceOf(SeedError);
      expect(error).toMatchObject({ code: 'INVALID_SEED', seed });
      expect(error.message).toBe(`seed must be an integer from 0 to 2147483647, got ${seed}`);
    }
  });

  it('refuses a seed that is not an integer', () => {
    for (const seed of [0.5, Number.NaN, Number.POSITIVE_INFINITY]) expect(() => createRandom(seed)).toThrow(SeedError);
  });

  it('gives distinct accepted seeds distinct streams and distinct forked market seeds', () => {
    const seeds = [...Array.from({ length: 2_000 }, (_, i) => i), 2 ** 30, 2 ** 30 + 1, MAX_SEED - 1, MAX_SEED];
    const roots = new Set(seeds.map((seed) => JSON.stringify([createRandom(seed).next(), createRandom(seed).int(0, 2 ** 31 - 1)])));
    const markets = new Set(seeds.map((seed) => createRandom(seed).fork('market:train').int(0, 2 ** 31 - 1)));
    expect(roots.size).toBe(seeds.length);
    expect(markets.size).toBe(seeds.length);
  });

  it('forks to any 32-bit seed, negative ones included, from an accepted seed', () => {
    const forks = Array.from({ length: 64 }, (_, i) => createRandom(i).fork('label'));
    expect(forks.some((fork) => fork.seed < 0)).toBe(true);
    for (const fork of forks) expect(() => fork.fork('again').next()).not.toThrow();
  });
});

function catchError(run: () => unknown): SeedError {
  try {
    run();
  } catch (error) {
    return error as SeedError;
  }
  throw new Error('expected an error');
}
