import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import { uniformInt } from 'pure-rand/distribution/uniformInt';
import { describe, expect, it } from 'vitest';
import { clusteredVectors, recallAt } from '../../src/testkit/vectors.js';
import {
  QuantizedIndex,
  codeBytes,
  dequantize,
  quantize,
  type QuantizationKind,
} from '../../src/memory/quantization.js';
import { VectorIndex, VectorIndexError } from '../../src/memory/vector-index.js';

const rng = xoroshiro128plus(3);
const random = (n: number) => Float32Array.from({ length: n }, () => uniformInt(rng, -1000, 1000) / 1000);

describe('quantize', () => {
  it.each([
    ['int8', 127],
    ['int4', 7],
  ] as const)('%s reconstructs every component within half a step of its own vector scale', (kind, levels) => {
    for (const dimensions of [1, 7, 64]) {
      const vector = random(dimensions).map((x, i) => x * 10 ** (i % 3));
      const quantized = quantize(vector, kind);
      const maxAbs = Math.max(...vector.map(Math.abs));
      expect(quantized.scale).toBeCloseTo(maxAbs / levels, 6);
      expect(quantized.codes.length).toBe(codeBytes(kind, dimensions));
      const restored = dequantize(quantized, dimensions);
      vector.forEach((x, i) => expect(Math.abs(restored[i]! - x)).toBeLessThanOrEqual(quantized.scale / 2 + 1e-6));
    }
  });

  it('stores int8 in a quarter and int4 in an eighth of float32', () => {
    expect(codeBytes('int8', 384) * 4).toBe(384 * 4);
    expect(codeBytes('int4', 384) * 8).toBe(384 * 4);
    expect(codeBytes('int4', 7)).toBe(4);
  });

  it('refuses non-finite values with a typed error', () => {
    expect(() => quantize([1, Number.NaN], 'int8')).toThrow(expect.objectContaining({ code: 'NON_FINITE_VALUE' }));
  });
});

const DIMS = 64;
const data = clusteredVectors({ count: 5000, dimensions: DIMS, clusters: 70, spread: 0.5, seed: 1, centresSeed: 5 });
const queryData = clusteredVectors({ count: 100, dimensions: DIMS, clusters: 70, spread: 0.5, seed: 2, centresSeed: 5 });
const row = (i: number) => data.subarray(i * DIMS, (i + 1) * DIMS);
const queries = Array.from({ length: 100 }, (_, i) => queryData.slice(i * DIMS, (i + 1) * DIMS));

async function truth() {
  const exact = await VectorIndex.open({ dimensions: DIMS, hnsw: false });
  for (let i = 0; i < 5000; i++) exact.upsert(`p${i}`, row(i));
  return queries.map((q) => exact.search(q, 10));
}

function quantized(kind: QuantizationKind): QuantizedIndex {
  const index = new QuantizedIndex({ dimensions: DIMS, kind, fetchVector: (id) => row(Number(id.slice(1))) });
  for (let i = 0; i < 5000; i++) index.upsert(`p${i}`, row(i));
  return index;
}

describe('QuantizedIndex', () => {
  it('int8 reaches recall@10 ≥ 0.98 (0.987 measured here) against float32 exact search, and 1.0 with float re-ranking', async () => {
    const expected = await truth();
    const index = quantized('int8');
    const plain = recallAt(expected, queries.map((q) => index.search(q, 10)));
    const reranked = recallAt(expected, queries.map((q) => index.search(q, 10, { rerank: 2 })));
    expect(plain).toBeGreaterThanOrEqual(0.98);
    expect(reranked).toBe(1);
    expect(index.vectorBytes).toBe(5000 * (DIMS + 4));
  });

  it('int4 reaches recall@10 ≥ 0.7 (0.82 measured here), and ≥ 0.99 with float re-ranking', async () => {
    const expected = await truth();
    const index = quantized('int4');
    const plain = recallAt(expected, queries.map((q) => index.search(q, 10)));
    const reranked = recallAt(expected, queries.map((q) => index.search(q, 10, { rerank: 4 })));
    expect(plain).toBeGreaterThanOrEqual(0.7);
    expect(reranked).toBeGreaterThanOrEqual(0.99);
    expect(index.vectorBytes).toBe(5000 * (DIMS / 2 + 4));
  });

  it.each(['int8', 'int4'] as const)('%s keeps results right through overwrites and deletes', (kind) => {
    const index = quantized(kind);
    for (let i = 0; i < 5000; i += 3) index.remove(`p${i}`);
    for (let i = 1; i < 5000; i += 7) index.upsert(`p${i}`, row(4999 - i));
    const fresh = new QuantizedIndex({ dimensions: DIMS, kind });
    for (let i = 0; i < 5000; i++) {
      if (i % 7 === 1) fresh.upsert(`p${i}`, row(4999 - i));
      else if (i % 3 !== 0) fresh.upsert(`p${i}`, row(i));
    }
    expect(index.size).toBe(fresh.size);
    for (const q of queries.slice(0, 20)) {
      const [got, want] = [index.search(q, 10), fresh.search(q, 10)];
      expect(got.map((m) => m.score)).toEqual(want.map((m) => m.score));
      // Coarse codes tie; which tied vector makes the cut depends on slot order.
      const cut = want[9]!.score;
      const above = (matches: typeof got) => matches.filter((m) => m.score > cut).map((m) => m.id);
      expect(above(got)).toEqual(above(want));
    }
  });

  it('applies a filter before choosing the top k', () => {
    const index = quantized('int8');
    const found = index.search(queries[0]!, 10, { filter: (id) => id.endsWith('7') });
    expect(found).toHaveLength(10);
    for (const match of found) expect(match.id.endsWith('7')).toBe(true);
  });

  it('refuses bad input and re-ranking without a float source with typed errors', () => {
    const index = new QuantizedIndex({ dimensions: 4, kind: 'int4' });
    index.upsert('a', [1, 2, 3, 4]);
    const cases: Array<[() => unknown, string]> = [
      [() => index.upsert('b', [1, 2, 3]), 'DIMENSION_MISMATCH'],
      [() => index.upsert('b', [0, 0, 0, 0]), 'ZERO_VECTOR'],
      [() => index.search([1, 2, 3, Number.NaN], 1), 'NON_FINITE_VALUE'],
      [() => index.search([1, 2, 3, 4], 0), 'INVALID_K'],
      [() => index.search([1, 2, 3, 4], 1, { rerank: 2 }), 'INVALID_OPTION'],
      [() => new QuantizedIndex({ dimensions: 4, kind: 'int2' as QuantizationKind }), 'INVALID_OPTION'],
    ];
    for (const [action, code] of cases) {
      expect(action).toThrow(VectorIndexError);
      expect(action).toThrow(expect.objectContaining({ code }));
    }
    expect(index.size).toBe(1);
  });
});
