import { VectorIndexError, assertK, type VectorMatch } from './exact-index.js';

/**
 * Maximal marginal relevance (Carbonell & Goldstein, 1998), as ReasoningBank
 * retrieval uses it: pick, one at a time, the candidate maximising
 *   lambda × relevance − (1 − lambda) × (highest similarity to any pick so far),
 * so near-duplicates of a pick lose to slightly less relevant but different
 * patterns. lambda = 1 is plain relevance order; lambda = 0 is pure diversity.
 */

export interface MmrCandidate {
  readonly id: string;
  /** Cosine similarity to the query. */
  readonly score: number;
  /** The candidate's unit vector, so dot products are cosines. */
  readonly vector: Float32Array;
}

export function assertLambda(lambda: number): void {
  if (!(lambda >= 0 && lambda <= 1)) {
    throw new VectorIndexError('INVALID_OPTION', `MMR lambda must be in [0, 1], got ${lambda}`);
  }
}

/** Returns up to k candidates in MMR order, each with its relevance score. */
export function mmrRerank(candidates: readonly MmrCandidate[], k: number, lambda: number): VectorMatch[] {
  assertK(k);
  assertLambda(lambda);
  const count = candidates.length;
  const redundancy = new Float64Array(count).fill(-1);
  const taken = new Uint8Array(count);
  const picked: VectorMatch[] = [];
  while (picked.length < Math.min(k, count)) {
    let best = -1;
    let bestValue = -Infinity;
    for (let i = 0; i < count; i++) {
      if (taken[i]) continue;
      const { score } = candidates[i]!;
      // The first pick is the most relevant whatever lambda is: with nothing
      // picked yet there is no redundancy to trade against.
      const value = picked.length === 0 ? score : lambda * score - (1 - lambda) * redundancy[i]!;
      // `best === -1` still picks a candidate whose score is NaN rather than none.
      if (value > bestValue || best === -1) {
        bestValue = value;
        best = i;
      }
    }
    const chosen = candidates[best]!;
    taken[best] = 1;
    picked.push({ id: chosen.id, score: chosen.score });
    for (let i = 0; i < count; i++) {
      if (!taken[i]) redundancy[i] = Math.max(redundancy[i]!, dot(chosen.vector, candidates[i]!.vector));
    }
  }
  return picked;
}

function dot(a: Float32Array, b: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i]! * b[i]!;
  return sum;
}
