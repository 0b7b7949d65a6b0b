import { describe, expect, it } from 'vitest';
import { mmrRerank, type MmrCandidate } from '../../src/memory/mmr.js';
import { VectorIndex, VectorIndexError } from '../../src/memory/vector-index.js';

const unit = (...xs: number[]) => {
  const norm = Math.hypot(...xs);
  return Float32Array.from(xs, (x) => x / norm);
};
const query = unit(1, 0, 0);
const candidate = (id: string, vector: Float32Array): MmrCandidate => ({
  id,
  vector,
  score: vector[0]!,
});
// Two near-duplicates close to the query, and a less relevant but different one.
const a = candidate('a', unit(1, 0.1, 0));
const aTwin = candidate('a-twin', unit(1, 0.12, 0.01));
const b = candidate('b', unit(1, 0, 0.6));

describe('mmrRerank', () => {
  it('keeps relevance order when lambda is 1', () => {
    expect(mmrRerank([a, aTwin, b], 3, 1).map((m) => m.id)).toEqual(['a', 'a-twin', 'b']);
  });

  it('prefers a different pattern over a near-duplicate of one already picked', () => {
    expect(mmrRerank([a, aTwin, b], 2, 0.5).map((m) => m.id)).toEqual(['a', 'b']);
  });

  it('starts with the most relevant candidate at any lambda and keeps relevance scores', () => {
    const picked = mmrRerank([b, aTwin, a], 3, 0);
    expect(picked[0]).toEqual({ id: 'a', score: a.score });
    expect(new Set(picked.map((m) => m.id))).toEqual(new Set(['a', 'a-twin', 'b']));
  });

  it('returns no more than it was given', () => {
    expect(mmrRerank([a], 5, 0.5)).toEqual([{ id: 'a', score: a.score }]);
    expect(mmrRerank([], 5, 0.5)).toEqual([]);
  });

  it('refuses a lambda outside [0, 1] and a bad k with typed errors', () => {
    for (const lambda of [-0.1, 1.1, Number.NaN]) {
      expect(() => mmrRerank([a], 1, lambda)).toThrow(expect.objectContaining({ code: 'INVALID_OPTION' }));
    }
    expect(() => mmrRerank([a], 0, 0.5)).toThrow(VectorIndexError);
  });
});

describe('VectorIndex with the mmr option', () => {
  it('spreads the results over distinct directions instead of copies of the best match', async () => {
    const index = await VectorIndex.open({ dimensions: 3, hnsw: false });
    for (let i = 0; i < 5; i++) index.upsert(`copy${i}`, [1, 0.1 + i * 0.001, 0]);
    index.upsert('other-1', [1, 0, 0.7]);
    index.upsert('other-2', [1, -0.6, -0.3]);
    const plain = index.search(query, 3).map((m) => m.id);
    const diverse = index.search(query, 3, { mmr: { lambda: 0.5 } }).map((m) => m.id);
    expect(plain.every((id) => id.startsWith('copy'))).toBe(true);
    expect(diverse.filter((id) => id.startsWith('copy'))).toHaveLength(1);
    expect(diverse).toEqual(expect.arrayContaining(['other-1', 'other-2']));
    expect(index.search(query, 3, { mmr: { lambda: 1 } }).map((m) => m.id)).toEqual(plain);
  });

  it('refuses fewer MMR candidates than k', async () => {
    const index = await VectorIndex.open({ dimensions: 3, hnsw: false });
    expect(() => index.search(query, 3, { mmr: { lambda: 0.5, candidates: 2 } })).toThrow(
      expect.objectContaining({ code: 'INVALID_OPTION' }),
    );
  });
});
