import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import { uniformInt } from 'pure-rand/distribution/uniformInt';
import { afterEach, describe, expect, it } from 'vitest';
import { clusteredVectors, recallAt } from '../../src/testkit/vectors.js';
import { SwarmbankError } from '../../src/errors.js';
import { createRandom } from '../../src/random.js';
import { loadUsearch, sidecarPath } from '../../src/memory/hnsw-index.js';
import { VectorIndex, VectorIndexError, type VectorIndexOptions, type VectorMatch } from '../../src/memory/vector-index.js';

const rows = (data: Float32Array, dimensions: number) =>
  Array.from({ length: data.length / dimensions }, (_, i) => data.slice(i * dimensions, (i + 1) * dimensions));

/** Cosine top-k in float64 over the raw vectors: the reference every path is held to. */
function bruteForce(
  vectors: ReadonlyMap<string, Float32Array>,
  query: Float32Array,
  k: number,
  keep: (id: string) => boolean = () => true,
): VectorMatch[] {
  const norm = (v: Float32Array) => Math.sqrt(v.reduce((sum, x) => sum + x * x, 0));
  const scored: VectorMatch[] = [];
  for (const [id, v] of vectors) {
    if (!keep(id)) continue;
    let dot = 0;
    for (let i = 0; i < v.length; i++) dot += v[i]! * query[i]!;
    scored.push({ id, score: dot / (norm(v) * norm(query)) });
  }
  return scored.sort((a, b) => b.score - a.score).slice(0, k);
}

function expectSameMatches(actual: VectorMatch[], expected: VectorMatch[]): void {
  expect(actual.map((m) => m.id)).toEqual(expected.map((m) => m.id));
  actual.forEach((match, i) => expect(match.score).toBeCloseTo(expected[i]!.score, 5));
}

async function filled(
  vectors: ReadonlyMap<string, Float32Array>,
  options: Partial<VectorIndexOptions> & { dimensions: number },
): Promise<VectorIndex> {
  const index = await VectorIndex.open({ onWarning: () => {}, ...options });
  for (const [id, v] of vectors) index.upsert(id, v);
  return index;
}

const DIMS = 32;
const clustered = (count: number, seed: number) =>
  rows(clusteredVectors({ count, dimensions: DIMS, clusters: 40, spread: 0.5, seed, centresSeed: 99 }), DIMS);
const patterns = new Map<string, Float32Array>(clustered(4000, 1).map((v, i) => [`p${i}`, v] as const));
const queries = clustered(100, 2);

const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'swarmbank-vector-index-'));
  dirs.push(dir);
  return dir;
};
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('exact search', () => {
  it('returns the same top-k as a brute-force scan on random data', async () => {
    // 37 dimensions exercise the remainder loop after the four-way unrolled one.
    const rng = xoroshiro128plus(7);
    const random = (n: number) => Float32Array.from({ length: n }, () => uniformInt(rng, -1000, 1000) / 1000);
    const vectors = new Map(Array.from({ length: 2000 }, (_, i) => [`v${i}`, random(37)] as const));
    const index = await filled(vectors, { dimensions: 37, hnsw: false });
    for (let q = 0; q < 30; q++) {
      const query = random(37);
      expectSameMatches(index.search(query, 10), bruteForce(vectors, query, 10));
    }
  });

  it('keeps results right through inserts, overwrites and deletes', async () => {
    const rng = xoroshiro128plus(11);
    const random = () => Float32Array.from({ length: 8 }, () => uniformInt(rng, -100, 100) / 100 + 0.001);
    const index = await VectorIndex.open({ dimensions: 8, hnsw: false, initialCapacity: 1 });
    const mirror = new Map<string, Float32Array>();
    for (let step = 0; step < 3000; step++) {
      const id = `id${uniformInt(rng, 0, 400)}`;
      if (uniformInt(rng, 0, 2) === 0) {
        expect(index.remove(id)).toBe(mirror.delete(id));
      } else {
        const v = random();
        index.upsert(id, v);
        mirror.set(id, v);
      }
      if (step % 150 === 0) {
        const query = random();
        expectSameMatches(index.search(query, 7), bruteForce(mirror, query, 7));
      }
    }
    expect(index.size).toBe(mirror.size);
  });

  it('returns every vector when k exceeds the count, and nothing when empty', async () => {
    const index = await VectorIndex.open({ dimensions: 2, hnsw: false });
    expect(index.search([1, 0], 3)).toEqual([]);
    index.upsert('a', [1, 0]);
    index.upsert('b', [0, 1]);
    expect(index.search([1, 0.1], 5).map((m) => m.id)).toEqual(['a', 'b']);
  });

  it('refuses bad input with a typed error and leaves the index unchanged', async () => {
    const index = await VectorIndex.open({ dimensions: 3, hnsw: false });
    index.upsert('a', [1, 2, 3]);
    const cases: Array<[() => unknown, string]> = [
      [() => index.upsert('b', [1, 2]), 'DIMENSION_MISMATCH'],
      [() => index.upsert('a', [1, Number.NaN, 3]), 'NON_FINITE_VALUE'],
      [() => index.upsert('a', [Infinity, 0, 0]), 'NON_FINITE_VALUE'],
      [() => index.upsert('a', [0, 0, 0]), 'ZERO_VECTOR'],
      [() => index.upsert('a', [1, 0, 0], { confidence: Number.NaN }), 'NON_FINITE_VALUE'],
      [() => index.search([1, 2, 3, 4], 1), 'DIMENSION_MISMATCH'],
      [() => index.search([Number.NaN, 0, 0], 1), 'NON_FINITE_VALUE'],
      [() => index.search([1, 0, 0], 0), 'INVALID_K'],
      [() => index.search([1, 0, 0], -1), 'INVALID_K'],
      [() => index.search([1, 0, 0], 1.5), 'INVALID_K'],
      [() => index.search([1, 0, 0], 1, { minConfidence: Number.NaN }), 'INVALID_OPTION'],
      [() => index.search([1, 0, 0], 1, { mmr: { lambda: 2 } }), 'INVALID_OPTION'],
    ];
    for (const [action, code] of cases) {
      let caught: unknown;
      try {
        action();
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(VectorIndexError);
      expect(caught).toBeInstanceOf(SwarmbankError);
      expect((caught as VectorIndexError).code).toBe(code);
    }
    expect(index.size).toBe(1);
    expect(index.search([1, 2, 3], 1)[0]!.score).toBeCloseTo(1, 6);
  });

  it('normalises vectors of any finite magnitude', async () => {
    const index = await VectorIndex.open({ dimensions: 2, hnsw: false });
    index.upsert('huge', [1e200, 1e200]);
    index.upsert('tiny', [1e-200, -1e-200]);
    expect(index.search([1, 1], 1)[0]!.score).toBeCloseTo(1, 6);
    expect(index.search([1, -1], 1)[0]).toMatchObject({ id: 'tiny' });
  });

  it('refuses invalid HNSW options', async () => {
    await expect(VectorIndex.open({ dimensions: 3, hnsw: { connectivity: 0 } })).rejects.toMatchObject({
      code: 'INVALID_OPTION',
    });
  });
});

describe('HNSW', () => {
  it('answers above the threshold with recall@10 ≥ 0.99 against exact search on clustered data', async () => {
    const index = await filled(patterns, { dimensions: DIMS, hnsw: { threshold: 1000 } });
    await index.whenIndexed();
    expect(index.hnswState).toBe('ready');
    const exact = queries.map((q) => index.search(q, 10, { exact: true }));
    const approximate = queries.map((q) => index.search(q, 10));
    expect(index.stats.hnswSearches).toBe(queries.length);
    expect(recallAt(exact, approximate)).toBeGreaterThanOrEqual(0.99);
    // Graph candidates are re-scored against the stored vectors, so a shared id has the exact score.
    expect(approximate[0]![0]!.score).toBe(exact[0]!.find((m) => m.id === approximate[0]![0]!.id)?.score);
  });

  it('serves exact search while the graph is built in the background', async () => {
    const index = await filled(patterns, { dimensions: DIMS, hnsw: { threshold: 1000, buildChunk: 256 } });
    expect(index.hnswState).toBe('building');
    const during = index.search(queries[0]!, 10);
    expect(index.stats).toMatchObject({ exactSearches: 1, hnswSearches: 0 });
    await index.whenIndexed();
    expect(index.hnswState).toBe('ready');
    expect(recallAt([during], [index.search(queries[0]!, 10)])).toBeGreaterThanOrEqual(0.9);
  });

  it('keeps the graph in step with upserts and deletes made during and after the build', async () => {
    const index = await filled(patterns, { dimensions: DIMS, hnsw: { threshold: 1000, buildChunk: 256 } });
    index.remove('p0');
    index.upsert('late', queries[1]!);
    for (let tick = 0; tick < 3; tick++) await new Promise((resolve) => setImmediate(resolve));
    expect(index.hnswState).toBe('building');
    // Slots 2 and 3 went into the graph with the first chunk: these change it mid-build.
    index.upsert('p2', queries[5]!);
    index.remove('p3');
    await index.whenIndexed();
    expect(index.search(queries[5]!, 1)[0]).toMatchObject({ id: 'p2' });
    expect(index.search(patterns.get('p3')!, 10).map((m) => m.id)).not.toContain('p3');
    const top = index.search(queries[0]!, 5);
    for (const match of top) index.remove(match.id);
    const after = index.search(queries[0]!, 10);
    expect(index.stats.hnswSearches).toBeGreaterThan(1);
    expect(after.map((m) => m.id)).not.toContain(top[0]!.id);
    expect(index.search(patterns.get('p0')!, 10).map((m) => m.id)).not.toContain('p0');
    expect(index.search(queries[1]!, 1)[0]).toMatchObject({ id: 'late' });
    index.upsert('p1', queries[2]!);
    expect(index.search(queries[2]!, 1)[0]).toMatchObject({ id: 'p1' });
  });

  it('returns identical results after a save and load round trip, without a rebuild', async () => {
    const path = join(tempDir(), 'patterns.usearch');
    const original = await filled(patterns, { dimensions: DIMS, hnsw: { threshold: 1000 } });
    await original.whenIndexed();
    expect(original.saveHnsw(path)).toBe(true);
    const reopened = await filled(patterns, { dimensions: DIMS, hnsw: { threshold: 1000 } });
    const report = reopened.loadHnsw(path);
    expect(report).toMatchObject({ outcome: 'loaded', added: 0, updated: 0, removed: 0 });
    expect(reopened.hnswState).toBe('ready');
    for (const q of queries) expect(reopened.search(q, 10)).toEqual(original.search(q, 10));
    expect(reopened.stats.hnswSearches).toBe(queries.length);
  });

  it('patches vectors added, changed or deleted since the save into the loaded graph', async () => {
    const path = join(tempDir(), 'patterns.usearch');
    const original = await filled(patterns, { dimensions: DIMS, hnsw: { threshold: 1000 } });
    await original.whenIndexed();
    original.saveHnsw(path);
    const changed = new Map(patterns);
    changed.delete('p5');
    changed.delete('p6');
    changed.set('p7', queries[3]!);
    changed.set('new', queries[4]!);
    const reopened = await filled(changed, { dimensions: DIMS, hnsw: { threshold: 1000 } });
    expect(reopened.loadHnsw(path)).toMatchObject({ outcome: 'loaded', added: 1, updated: 1, removed: 2 });
    expect(reopened.search(queries[3]!, 1)[0]).toMatchObject({ id: 'p7' });
    expect(reopened.search(queries[4]!, 1)[0]).toMatchObject({ id: 'new' });
    const ids = new Set(queries.flatMap((q) => reopened.search(q, 50).map((m) => m.id)));
    expect(ids.has('p5') || ids.has('p6')).toBe(false);
    expect(reopened.stats.exactSearches).toBe(0);
  });

  it('rebuilds in the background when the saved graph is missing, corrupt or far out of date', async () => {
    const path = join(tempDir(), 'patterns.usearch');
    const original = await filled(patterns, { dimensions: DIMS, hnsw: { threshold: 1000 } });
    await original.whenIndexed();
    original.saveHnsw(path);
    writeFileSync(path, 'not a graph');
    const reopened = await filled(patterns, { dimensions: DIMS, hnsw: { threshold: 1000 } });
    const report = reopened.loadHnsw(path);
    expect(report.outcome).toBe('invalid');
    expect(report.reason).toMatch(/bytes/);
    writeFileSync(sidecarPath(path), '{"format":"something else"}');
    expect(reopened.loadHnsw(path).outcome).toBe('invalid');
    expect(reopened.loadHnsw(join(tempDir(), 'absent.usearch')).outcome).toBe('missing');
    original.saveHnsw(path);
    const unrelated = await filled(new Map(clustered(4000, 3).map((v, i) => [`p${i}`, v] as const)), {
      dimensions: DIMS,
      hnsw: { threshold: 1000 },
    });
    expect(unrelated.loadHnsw(path)).toMatchObject({ outcome: 'invalid', reason: expect.stringMatching(/changed since/) });
    await unrelated.whenIndexed();
    expect(unrelated.hnswState).toBe('ready');
    await reopened.whenIndexed();
    expect(reopened.hnswState).toBe('ready');
  });

  it('falls back to exact search and says so once when usearch cannot load', async () => {
    const warnings: string[] = [];
    const index = await filled(patterns, {
      dimensions: DIMS,
      hnsw: { threshold: 1000 },
      loadUsearch: () => Promise.reject(new Error('no prebuilt binary for this platform')),
      onWarning: (message) => warnings.push(message),
    });
    expect(index.hnswState).toBe('unavailable');
    expect(index.fallbackReason).toMatch(/no prebuilt binary/);
    await index.whenIndexed();
    expectSameMatches(index.search(queries[0]!, 10), bruteForce(patterns, queries[0]!, 10));
    expect(index.saveHnsw(join(tempDir(), 'x.usearch'))).toBe(false);
    expect(index.loadHnsw(join(tempDir(), 'x.usearch')).outcome).toBe('unavailable');
    expect(warnings).toHaveLength(1);
  });

  it('drops to exact search and says so once when usearch fails mid-build', async () => {
    const warnings: string[] = [];
    const real = await loadUsearch();
    class FailingIndex extends real.Index {
      override add(): void {
        throw new Error('Failed to reserve memory');
      }
    }
    const index = await filled(patterns, {
      dimensions: DIMS,
      hnsw: { threshold: 1000 },
      loadUsearch: async () => ({ ...real, Index: FailingIndex }),
      onWarning: (message) => warnings.push(message),
    });
    await index.whenIndexed();
    expect(index.hnswState).toBe('unavailable');
    index.upsert('more', queries[0]!);
    expect(index.search(queries[0]!, 1)[0]).toMatchObject({ id: 'more' });
    expect(warnings).toEqual([expect.stringMatching(/Failed to reserve memory/)]);
  });
});

describe('filters', () => {
  const facetsOf = (i: number) => ({
    tags: i % 3 === 0 ? ['bullish_reversal', 'support_level'] : i % 3 === 1 ? ['support_level'] : [],
    label: i % 2 === 0 ? 'up' : 'down',
    confidence: (i % 10) / 10,
  });
  const withFacets = async (threshold: number) => {
    const index = await VectorIndex.open({ dimensions: DIMS, hnsw: { threshold }, onWarning: () => {} });
    [...patterns.values()].forEach((v, i) => index.upsert(`p${i}`, v, facetsOf(i)));
    await index.whenIndexed();
    expect(index.hnswState).toBe(threshold <= patterns.size ? 'ready' : 'idle');
    return index;
  };
  const keepIf = (test: (facets: ReturnType<typeof facetsOf>) => boolean) => (id: string) => test(facetsOf(Number(id.slice(1))));

  it('keeps only patterns with every tag, the label and the minimum confidence, on both paths', async () => {
    for (const threshold of [1_000_000, 1000]) {
      const index = await withFacets(threshold);
      const found = queries.map((q) => index.search(q, 10, { tags: ['support_level'], label: 'up', minConfidence: 0.4 }));
      const keep = keepIf((f) => f.tags.includes('support_level') && f.label === 'up' && f.confidence >= 0.4);
      const expected = queries.map((q) => bruteForce(patterns, q, 10, keep));
      expect(recallAt(expected, found)).toBeGreaterThanOrEqual(threshold === 1000 ? 0.98 : 1);
      for (const match of found.flat()) expect(keep(match.id)).toBe(true);
    }
  });

  it('combines a custom predicate with the facets', async () => {
    const index = await withFacets(1_000_000);
    const found = index.search(queries[0]!, 10, { tags: ['bullish_reversal'], filter: (id) => id.endsWith('3') });
    const tagged = keepIf((f) => f.tags.includes('bullish_reversal'));
    expectSameMatches(found, bruteForce(patterns, queries[0]!, 10, (id) => tagged(id) && id.endsWith('3')));
  });

  it('scans exactly when too few graph candidates pass the filter', async () => {
    const index = await withFacets(1000);
    const rare = new Set(['p17', 'p1234', 'p3999']);
    const found = index.search(queries[0]!, 10, { filter: (id) => rare.has(id) });
    expect(found.map((m) => m.id).sort()).toEqual([...rare].sort());
    expect(index.stats.exactFallbacks).toBe(1);
  });

  it('lets confidence change without touching the vector', async () => {
    const index = await withFacets(1_000_000);
    const best = index.search(queries[0]!, 1)[0]!;
    expect(index.setFacets(best.id, { confidence: 0 })).toBe(true);
    expect(index.search(queries[0]!, 10, { minConfidence: 0.1 }).map((m) => m.id)).not.toContain(best.id);
    expect(index.setFacets('unknown', { confidence: 1 })).toBe(false);
  });
});

describe('vector index under constant updates', () => {
  it('keeps answering from the graph through thousands of updates to the same ids, replacing it as tombstones pile up', async () => {
    const random = createRandom(3);
    const vector = () => Float32Array.from({ length: 12 }, () => random.next() * 2 - 1);
    const index = await VectorIndex.open({ dimensions: 12, hnsw: { threshold: 50 } });
    for (let i = 0; i < 60; i++) index.upsert(`p${i}`, vector());
    await index.whenIndexed();
    let agree = 0;
    for (let cycle = 0; cycle < 2_000; cycle++) {
      index.upsert(`p${cycle % 10}`, vector());
      if (cycle % 7 === 0) index.remove(`p${10 + (cycle % 5)}`);
      if (cycle % 7 === 3) index.upsert(`p${10 + (cycle % 5)}`, vector());
      const query = vector();
      const exact = new Set(index.search(query, 5, { exact: true }).map((m) => m.id));
      agree += index.search(query, 5).filter((m) => exact.has(m.id)).length;
      if (cycle % 250 === 0) await index.whenIndexed();
    }
    expect(index.hnswState).toBe('ready');
    expect(index.stats.hnswSearches).toBe(2_000);
    expect(agree / 10_000).toBeGreaterThanOrEqual(0.97);
    index.close();
  });
});
