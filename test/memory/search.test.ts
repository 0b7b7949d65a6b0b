import { describe, expect, it } from 'vitest';
import { createRandom } from '../../src/random.js';
import { PatternSearch } from '../../src/memory/search.js';
import { DIMENSIONS, input, randomInput, useMemoryFixture } from './support.js';

const fixture = useMemoryFixture();
const unit = (axis: number) => Float32Array.from({ length: DIMENSIONS }, (_, i) => (i === axis ? 1 : 0));

describe('pattern search', () => {
  it('finds the most similar patterns with their records', async () => {
    const memory = await fixture.open();
    await memory.upsertMany([0, 1, 2, 3].map((axis) => input(`p${axis}`, { embedding: unit(axis) })));
    const search = await PatternSearch.open(memory, { hnsw: false });
    const [best] = await search.search(unit(2), 1);
    expect(best).toMatchObject({ id: 'p2', pattern: { id: 'p2', version: 1 } });
    expect(best?.score).toBeCloseTo(1, 6);
    await search.close();
  });

  it('follows every committed write through the journal: upserts, merges, evictions and deletes', async () => {
    const memory = await fixture.open({ capacity: 3 });
    const search = await PatternSearch.open(memory, { hnsw: false });
    await memory.upsert(input('a', { embedding: unit(0), support: 50, confidence: 0.9 }));
    await memory.upsert(input('b', { embedding: unit(1), support: 40, confidence: 0.9 }));
    await memory.upsert(input('c', { embedding: unit(2), support: 30, confidence: 0.9 }));
    await memory.upsert(input('weak', { embedding: unit(3), support: 0, successes: 0, confidence: 0.1 }));
    await memory.merge(['a', 'b'], input('ab', { embedding: unit(0), support: 90, confidence: 0.9 }));
    await memory.delete('c');
    const ids = (await search.search(unit(0), 10)).map((m) => m.id).sort();
    expect(ids).toEqual([...memory.iterate()].map((p) => p.id).sort());
    expect(ids).not.toContain('a');
    expect(ids).not.toContain('c');
    await search.close();
  });

  it('sees writes made by another handle on the same directory', async () => {
    const dir = fixture.dir();
    const writer = await fixture.open({ path: dir });
    const search = await PatternSearch.open(writer, { hnsw: false });
    await writer.upsert(input('late', { embedding: unit(5) }));
    expect((await search.search(unit(5), 1))[0]?.id).toBe('late');
    await search.close();
  });

  it('filters by label, tag and minimum confidence', async () => {
    const memory = await fixture.open();
    await memory.upsertMany([
      input('up-strong', { embedding: unit(0), outcome: 'up', confidence: 0.9, tags: ['trending'] }),
      input('down-strong', { embedding: unit(0), outcome: 'down', confidence: 0.9, tags: ['trending'] }),
      input('up-weak', { embedding: unit(0), outcome: 'up', confidence: 0.2, tags: ['ranging'] }),
    ]);
    const search = await PatternSearch.open(memory, { hnsw: false });
    const ids = async (options: Parameters<PatternSearch['search']>[2]) => (await search.search(unit(0), 5, options)).map((m) => m.id).sort();
    expect(await ids({ label: 'up' })).toEqual(['up-strong', 'up-weak']);
    expect(await ids({ minConfidence: 0.5 })).toEqual(['down-strong', 'up-strong']);
    expect(await ids({ tags: ['ranging'] })).toEqual(['up-weak']);
    await search.close();
  });

  it('reopens searchable from the stored vectors and the saved graph, without rebuilding it', async () => {
    const random = createRandom(21);
    const dir = fixture.dir();
    const memory = await fixture.open({ path: dir });
    for (let batch = 0; batch < 3; batch++) {
      await memory.upsertMany(Array.from({ length: 1_000 }, (_, i) => randomInput(random, `p${batch * 1_000 + i}`)));
    }
    const hnsw = { threshold: 500 };
    const first = await PatternSearch.open(memory, { hnsw });
    await first.index.whenIndexed();
    await first.close();
    await memory.upsert(randomInput(random, 'after-save'));

    const second = await PatternSearch.open(memory, { hnsw });
    expect(second.opened.patterns).toBe(3_001);
    expect(second.opened.graph).toMatchObject({ outcome: 'loaded', added: 1 });
    expect(second.index.hnswState).toBe('ready');
    let agree = 0;
    for (let q = 0; q < 20; q++) {
      const query = randomInput(random, `q${q}`).embedding;
      const exact = new Set((await second.search(query, 10, { exact: true })).map((m) => m.id));
      agree += (await second.search(query, 10)).filter((m) => exact.has(m.id)).length;
    }
    expect(agree / 200).toBeGreaterThanOrEqual(0.95);
    expect(second.index.stats.hnswSearches).toBe(20);
    await second.close();
  });
});
