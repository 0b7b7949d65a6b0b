import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import type { VectorMatch } from '../memory/vector-index.js';
import { assertSeed } from '../random.js';

/** Seeded synthetic embeddings and recall measurement, shared by the vector tests and benchmarks. */

export interface ClusteredOptions {
  readonly count: number;
  readonly dimensions: number;
  readonly clusters: number;
  /** Standard deviation of each component around its cluster centre (centres are N(0, 1)). */
  readonly spread: number;
  /** Seeds the draws around the centres. */
  readonly seed: number;
  /** Seeds the centres; data and queries share it so queries land in the data's clusters. */
  readonly centresSeed: number;
}

/**
 * `count` vectors drawn around `clusters` random centres, row after row in one
 * array. Pattern embeddings cluster by regime and outcome, which is where HNSW
 * and quantization are tested hardest: neighbours are close together.
 */
export function clusteredVectors(options: ClusteredOptions): Float32Array {
  const { count, dimensions, clusters, spread } = options;
  assertSeed(options.seed);
  assertSeed(options.centresSeed);
  const centres = gaussians(clusters * dimensions, options.centresSeed, 0, 1);
  const rng = xoroshiro128plus(options.seed);
  const noise = gaussians(count * dimensions, options.seed + 1, 0, spread);
  const out = new Float32Array(count * dimensions);
  for (let row = 0; row < count; row++) {
    const centre = (rng.next() >>> 0) % clusters;
    for (let j = 0; j < dimensions; j++) {
      out[row * dimensions + j] = centres[centre * dimensions + j]! + noise[row * dimensions + j]!;
    }
  }
  return out;
}

function gaussians(count: number, seed: number, mean: number, deviation: number): Float32Array {
  const rng = xoroshiro128plus(seed);
  const uniform = () => ((rng.next() >>> 0) + 0.5) / 4294967296;
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    out[i] = mean + deviation * Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
  }
  return out;
}

export function recallAt(truth: readonly VectorMatch[][], found: readonly VectorMatch[][]): number {
  let hits = 0;
  let total = 0;
  truth.forEach((expected, q) => {
    const got = new Set(found[q]!.map((match) => match.id));
    for (const match of expected) if (got.has(match.id)) hits++;
    total += expected.length;
  });
  return total === 0 ? 1 : hits / total;
}
