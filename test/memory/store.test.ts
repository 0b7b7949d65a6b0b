import { describe, expect, it } from 'vitest';
import { embeddingToBytes } from '../../src/memory/codec.js';
import { MemoryFullError, MemoryOptionsError, PatternNotFoundError } from '../../src/memory/errors.js';
import { DEFAULT_RECENCY_HALF_LIFE_MS, utility } from '../../src/memory/eviction.js';
import { PatternValidationError, type Pattern } from '../../src/memory/pattern.js';
import { openPatternMemory } from '../../src/memory/store.js';
import { createRandom } from '../../src/random.js';
import { DIMENSIONS, FEATURE_SPACE, input, manualClock, randomInput, rawRecords, sortedIds, useMemoryFixture } from './support.js';

const DAY = 24 * 60 * 60 * 1000;

describe('pattern store', () => {
  const fixture = useMemoryFixture();

  describe('embeddings', () => {
    it('stores embeddings as raw little-endian float32 bytes', () => {
      expect([...embeddingToBytes(Float32Array.of(1, -2))]).toEqual([0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x00, 0xc0]);
    });

    it('returns every finite float32 bit pattern unchanged, as a Float32Array of the caller\'s own (seed 7)', async () => {
      const random = createRandom(7);
      const memory = await fixture.open({ dimensions: 64 });
      const bits = new Uint32Array(64);
      const written: Float32Array[] = [];
      for (let n = 0; n < 200; n++) {
        const embedding = new Float32Array(bits.buffer.slice(0));
        for (let i = 0; i < 64; i++) {
          // Any 32 bits except an all-ones exponent (Infinity, NaN) is a finite float: normals, subnormals, ±0.
          let word = random.int(0, 0xffffffff);
          if ((word & 0x7f800000) === 0x7f800000) word &= 0xff7fffff;
          new Uint32Array(embedding.buffer)[i] = word >>> 0;
        }
        embedding[0] = n === 0 ? -0 : (embedding[0] as number);
        written.push(embedding);
      }
      await memory.upsertMany(written.map((embedding, n) => input(`p${n}`, { embedding })));

      for (const [n, embedding] of written.entries()) {
        const stored = memory.get(`p${n}`)?.embedding as Float32Array;
        expect(stored).toBeInstanceOf(Float32Array);
        expect(stored.length).toBe(64);
        // A view into a shared slab (see embedding-pool.ts): its bits are read through byteOffset.
        expect(new Uint32Array(stored.buffer, stored.byteOffset, stored.length)).toEqual(new Uint32Array(embedding.buffer));
        expect(embeddingToBytes(stored)).toEqual(embeddingToBytes(embedding));
      }
    });

    it.each([['cached', 100], ['uncached', 0]])(
      'hands out %s embeddings that alias nothing: writing into one changes no other read, the stored pattern or a later read',
      async (_, cacheSize) => {
        const memory = await fixture.open({ cacheSize });
        const ids = Array.from({ length: 40 }, (_, n) => `p${String(n).padStart(2, '0')}`);
        await memory.upsertMany(ids.map((id, n) => input(id, { embedding: new Float32Array(DIMENSIONS).fill(n + 1) })));
        const reads = [...ids.map((id) => memory.get(id) as Pattern), ...memory.iterate(), ...memory.iterate()];
        // Views share slabs, never bytes.
        const ranges = reads.map((p) => [p.embedding.buffer, p.embedding.byteOffset, p.embedding.byteOffset + p.embedding.byteLength] as const);
        for (const [i, [buffer, start, end]] of ranges.entries()) {
          for (const [other, otherStart, otherEnd] of ranges.slice(i + 1)) {
            if (other === buffer) expect(end <= otherStart || otherEnd <= start).toBe(true);
          }
        }
        for (const pattern of reads) pattern.embedding.fill(-1);
        for (const [n, id] of ids.entries()) expect([...(memory.get(id)?.embedding ?? [])]).toEqual(new Array(DIMENSIONS).fill(n + 1));
        expect([...memory.iterate()].map((p) => p.embedding[0])).toEqual(ids.map((_, n) => n + 1));
      },
    );

    it.each([['cached', 100], ['uncached', 0]])('getInto copies a %s pattern into the caller\'s buffer and returns it as the embedding', async (_, cacheSize) => {
      const memory = await fixture.open({ cacheSize });
      const embedding = Float32Array.from({ length: DIMENSIONS }, (_, i) => i - 3.25);
      await memory.upsertMany([input('a', { embedding }), input('b')]);
      const target = new Float32Array(DIMENSIONS).fill(99);

      const a = memory.getInto('a', target);
      expect(a?.embedding).toBe(target);
      expect([...target]).toEqual([...embedding]);
      expect(a).toEqual(memory.get('a'));

      // The next read reuses the buffer; what is stored never changes with it.
      target.fill(7);
      expect(memory.get('a')?.embedding).toEqual(embedding);
      expect(memory.getInto('b', target)?.id).toBe('b');
      expect([...target]).toEqual([...(memory.get('b')?.embedding ?? [])]);
      const before = [...target];
      expect(memory.getInto('missing', target)).toBeUndefined();
      expect([...target]).toEqual(before);
      expect(() => memory.getInto('a', new Float32Array(DIMENSIONS + 1))).toThrow(MemoryOptionsError);
    });

    it('returns what it decided for each pattern of a batch, in order, and keeps its own copies of the embeddings', async () => {
      const clock = { now: 1_000 };
      const memory = await fixture.open({ clock: () => clock.now });
      await memory.upsert(input('p1'));
      await memory.consolidate(['p1'], { plasticity: 0.2 });
      clock.now = 2_000;
      const embeddings = [1, 2, 3].map((n) => new Float32Array(DIMENSIONS).fill(n));
      const receipts = await memory.upsertMany(embeddings.map((embedding, n) => input(`p${n}`, { embedding })));
      expect(receipts).toEqual([
        { id: 'p0', version: 1, createdAt: 2_000, updatedAt: 2_000, consolidated: false, plasticity: 1 },
        { id: 'p1', version: 3, createdAt: 1_000, updatedAt: 2_000, consolidated: true, plasticity: 0.2 },
        { id: 'p2', version: 1, createdAt: 2_000, updatedAt: 2_000, consolidated: false, plasticity: 1 },
      ]);
      for (const embedding of embeddings) embedding.fill(0);
      expect([0, 1, 2].map((n) => [...(memory.get(`p${n}`)?.embedding ?? [])])).toEqual([1, 2, 3].map((n) => new Array(DIMENSIONS).fill(n)));
      (memory.get('p1')?.embedding as Float32Array).fill(-1);
      expect(memory.get('p1')?.embedding[0]).toBe(2);
    });

    it('keeps its own copy of the embedding it was given', async () => {
      const memory = await fixture.open();
      const embedding = new Float32Array(DIMENSIONS).fill(0.5);
      const written = await memory.upsert(input('a', { embedding }));
      embedding.fill(9);
      expect(written.embedding[0]).toBe(0.5);
      expect(memory.get('a')?.embedding[0]).toBe(0.5);
    });
  });

  describe('reads and writes', () => {
    it('upserts, gets, iterates in id order, counts and deletes', async () => {
      const memory = await fixture.open();
      await memory.upsert(input('b'));
      await memory.upsertMany([input('c'), input('a')]);
      expect(memory.count()).toBe(3);
      expect(sortedIds(memory)).toEqual(['a', 'b', 'c']);
      expect(memory.has('b')).toBe(true);
      expect(await memory.delete('b')).toBe(true);
      expect(await memory.delete('b')).toBe(false);
      expect(memory.get('b')).toBeUndefined();
      expect(memory.has('b')).toBe(false);
      expect(memory.count()).toBe(2);
    });

    it('lists ids in id order without decoding, after a given id when asked', async () => {
      const memory = await fixture.open();
      await memory.upsertMany(['d', 'b', 'a', 'c'].map((id) => input(id)));
      expect([...memory.ids()]).toEqual(['a', 'b', 'c', 'd']);
      expect([...memory.ids('b')]).toEqual(['c', 'd']);
      expect([...memory.ids('bb')]).toEqual(['c', 'd']);
      expect([...memory.ids('d')]).toEqual([]);
    });

    it('returns exactly the pattern it wrote, with the memory defaults filled in', async () => {
      const clock = manualClock();
      const memory = await fixture.open({ clock: clock.now });
      const written = await memory.upsert(input('a', { condition: 'ranging' }));
      expect(written).toMatchObject<Partial<Pattern>>({
        version: 1,
        featureSpaceId: FEATURE_SPACE,
        consolidated: false,
        plasticity: 1,
        condition: 'ranging',
        createdAt: clock.now(),
        updatedAt: clock.now(),
      });
      expect(memory.get('a')).toEqual(written);
    });

    it('bumps the version on every mutation and keeps createdAt', async () => {
      const clock = manualClock();
      const memory = await fixture.open({ clock: clock.now });
      const created = clock.now();
      await memory.upsert(input('a'));
      clock.advance(1000);
      expect((await memory.upsert(input('a', { confidence: 0.9 }))).version).toBe(2);
      clock.advance(1000);
      const [consolidated] = await memory.consolidate(['a']);
      expect(consolidated).toMatchObject({ version: 3, consolidated: true, plasticity: 0.1, createdAt: created, updatedAt: created + 2000 });
      const [released] = await memory.release(['a']);
      expect(released).toMatchObject({ version: 4, consolidated: false, plasticity: 1 });
      expect((await memory.upsert(input('a'))).version).toBe(5);
    });

    it('versions a batch as one upsert at a time would, whether its ids are new, stored, repeated, out of order or just removed', async () => {
      const clock = manualClock();
      const dir = fixture.dir();
      let memory = await fixture.open({ path: dir, clock: clock.now });
      await memory.upsertMany([input('b'), input('d'), input('z')]);
      const removed = memory.delete('z');
      const batch = memory.upsertMany(['z', 'e', 'f', 'b', 'c', 'c', 'a', 'd'].map((id) => input(id)));
      expect(await removed).toBe(true);
      expect((await batch).map((p) => `${p.id}${p.version}`)).toEqual(['z1', 'e1', 'f1', 'b2', 'c1', 'c2', 'a1', 'd2']);
      await memory.close();

      // Reopened, the cache knows nothing: stored ids are found by LMDB refusing to insert them.
      memory = await fixture.open({ path: dir, clock: clock.now });
      const again = await memory.upsertMany(['zz', 'b', 'h', 'a', 'zz'].map((id) => input(id)));
      expect(again.map((p) => `${p.id}${p.version}`)).toEqual(['zz1', 'b3', 'h1', 'a2', 'zz2']);
      expect(memory.count()).toBe(9);
      expect(memory.checkIntegrity()).toMatchObject({ ok: true });
    });

    it('updates the last stored pattern when a batch starts with its id, never appending over it', async () => {
      const dir = fixture.dir();
      let memory = await fixture.open({ path: dir });
      await memory.upsertMany([input('a'), input('b')]);
      expect((await memory.upsertMany([input('b', { confidence: 0.7 })])).map((p) => p.version)).toEqual([2]);
      await memory.close();

      memory = await fixture.open({ path: dir });
      expect((await memory.upsertMany([input('b', { confidence: 0.9 }), input('c')])).map((p) => `${p.id}${p.version}`)).toEqual(['b3', 'c1']);
      expect(memory.count()).toBe(3);
      expect(memory.get('b')).toMatchObject({ version: 3, confidence: 0.9 });
      expect(memory.checkIntegrity()).toMatchObject({ ok: true });
    });

    it('keeps consolidation and plasticity across upserts that do not set them', async () => {
      const memory = await fixture.open();
      await memory.upsert(input('a'));
      await memory.consolidate(['a'], { plasticity: 0.2 });
      expect(await memory.upsert(input('a', { confidence: 0.7 }))).toMatchObject({ consolidated: true, plasticity: 0.2 });
    });

    it('writes a batch in one transaction: all of it, or none of it when one pattern is invalid', async () => {
      const memory = await fixture.open();
      await memory.upsert(input('a'));
      const batch = [input('a', { confidence: 0.9 }), input('b'), input('c', { successes: 99 })];
      await expect(memory.upsertMany(batch)).rejects.toThrow(PatternValidationError);
      expect(memory.get('a')?.confidence).toBe(0.5);
      expect(memory.has('b')).toBe(false);
      expect(memory.lastSeq()).toBe(1);

      await memory.upsertMany(batch.slice(0, 2));
      expect(memory.count()).toBe(2);
      expect(memory.lastSeq()).toBe(3);
    });

    it('refuses patterns of another feature space or of the wrong dimensions', async () => {
      const memory = await fixture.open();
      await expect(memory.upsert(input('a', { featureSpaceId: 'other' }))).rejects.toMatchObject({ field: 'featureSpaceId' });
      await expect(memory.upsert(input('a', { embedding: new Float32Array(DIMENSIONS * 2) }))).rejects.toMatchObject({ field: 'embedding' });
      expect(memory.count()).toBe(0);
    });

    it('merges sources into one pattern with the highest version plus one, atomically', async () => {
      const clock = manualClock();
      const memory = await fixture.open({ clock: clock.now });
      await memory.upsert(input('a', { plasticity: 0.6 }));
      clock.advance(10);
      await memory.upsert(input('b'));
      await memory.upsert(input('b'));
      await memory.upsert(input('b'));
      // a is at version 2 once consolidated, b at 3.
      await memory.consolidate(['a']);
      const merged = await memory.merge(['a', 'b'], input('ab', { support: 20, successes: 12 }));
      expect(merged).toMatchObject({ version: 4, createdAt: clock.now() - 10, consolidated: true, plasticity: 0.1 });
      expect(sortedIds(memory)).toEqual(['ab']);

      await expect(memory.merge(['ab', 'missing'], input('ab'))).rejects.toThrow(PatternNotFoundError);
      expect(memory.get('ab')).toEqual(merged);
    });

    it('imports patterns validated first, refusing the whole set when one is bad', async () => {
      const source = await fixture.open();
      const target = await fixture.open();
      await source.upsertMany([input('x'), input('y')]);
      const exported = [...source.iterate()];
      await target.upsert(input('y'));
      await target.consolidate(['y']);

      await expect(target.importPatterns([...exported, { ...input('z'), version: 0 } as unknown as Pattern], { source: 'agent-2' })).rejects.toMatchObject({
        field: 'version',
      });
      expect(sortedIds(target)).toEqual(['y']);

      const imported = await target.importPatterns(exported, { source: 'agent-2' });
      expect(imported.map((p) => [p.id, p.version, p.consolidated, p.origin])).toEqual([
        ['x', 2, false, 'agent-1'],
        ['y', 3, true, 'agent-1'],
      ]);
      expect(target.get('x')).toEqual(imported[0]);
      expect(target.get('x')?.embedding).toEqual(exported[0]?.embedding);
    });

    it('keeps records compact: shared msgpack structures, no per-record field names', async () => {
      const memory = await fixture.open({ dimensions: 64 });
      await memory.upsert(input('compact', { embedding: new Float32Array(64).fill(1) }));
      await memory.close();
      const [record] = (await rawRecords(memory.path, 'patterns')).values();
      // 256 embedding bytes plus the values; the fifteen field names alone would add ~130 bytes.
      expect(record?.byteLength).toBeLessThan(256 + 100);
    });

    it('reports the bytes it uses, under 1 KB a pattern at 64 dimensions (seed 3)', async () => {
      const memory = await fixture.open({ dimensions: 64 });
      const random = createRandom(3);
      const before = memory.bytesUsed();
      await memory.upsertMany(Array.from({ length: 2000 }, (_, i) => randomInput(random, `p${i}`, 64)));
      const after = memory.bytesUsed();
      expect(after.patterns).toBeGreaterThan(before.patterns);
      expect(after.journal).toBeGreaterThan(before.journal);
      expect(after.patterns / 2000).toBeLessThan(1024);
      expect(after.file).toBeGreaterThanOrEqual(after.patterns + after.journal);
    });
  });

  describe('opening', () => {
    it('keeps every pattern across a reopen', async () => {
      const dir = fixture.dir();
      const memory = await fixture.open({ path: dir });
      const written = [await memory.upsert(input('a')), await memory.upsert(input('b', { tags: [] }))];
      await memory.close();
      const reopened = await fixture.open({ path: dir });
      expect([...reopened.iterate()]).toEqual(written);
      expect(reopened.lastSeq()).toBe(2);
    });

    it('refuses to reopen a memory with other dimensions, feature space or half-life', async () => {
      const dir = fixture.dir();
      await (await fixture.open({ path: dir })).close();
      await expect(openPatternMemory({ path: dir, dimensions: 16, featureSpaceId: FEATURE_SPACE })).rejects.toMatchObject({
        code: 'MEMORY_OPTIONS',
        option: 'dimensions',
      });
      await expect(openPatternMemory({ path: dir, dimensions: DIMENSIONS, featureSpaceId: 'v2' })).rejects.toMatchObject({
        option: 'featureSpaceId',
      });
      await expect(
        openPatternMemory({ path: dir, dimensions: DIMENSIONS, featureSpaceId: FEATURE_SPACE, recencyHalfLifeMs: DAY }),
      ).rejects.toMatchObject({ option: 'recencyHalfLifeMs' });
    });

    it.each([
      ['dimensions', { dimensions: 0 }],
      ['featureSpaceId', { featureSpaceId: '' }],
      ['capacity', { capacity: 2.5 }],
      ['recencyHalfLifeMs', { recencyHalfLifeMs: -1 }],
    ])('refuses a bad %s option', async (option, change) => {
      await expect(fixture.open(change)).rejects.toThrow(MemoryOptionsError);
      await expect(fixture.open(change)).rejects.toMatchObject({ option });
    });
  });

  describe('capacity', () => {
    it('evicts the lowest confidence × support × recency pattern when over capacity', async () => {
      const clock = manualClock();
      const memory = await fixture.open({ capacity: 3, clock: clock.now });
      await memory.upsert(input('old-strong', { confidence: 0.9, support: 40, successes: 30 }));
      clock.advance(5 * DEFAULT_RECENCY_HALF_LIFE_MS);
      await memory.upsert(input('fresh-weak', { confidence: 0.5, support: 10 }));
      await memory.upsert(input('fresh-mid', { confidence: 0.6, support: 20 }));

      const now = clock.now();
      const scores = ['old-strong', 'fresh-weak', 'fresh-mid'].map((id) => utility(memory.get(id) as Pattern, now, DEFAULT_RECENCY_HALF_LIFE_MS));
      // 0.9 × 40 / 2^5 = 1.125 is below 0.5 × 10 = 5: five half-lives outweigh a 7× stronger record.
      expect(scores[0]).toBeLessThan(scores[1] as number);

      await memory.upsert(input('newcomer', { confidence: 0.8, support: 10 }));
      expect(sortedIds(memory)).toEqual(['fresh-mid', 'fresh-weak', 'newcomer']);
      const events = [];
      for await (const event of memory.replay()) events.push(event);
      expect(events.at(-1)).toMatchObject({ type: 'evict', id: 'old-strong', seq: 5 });
    });

    it('evicts a new pattern at once when it is itself the least useful', async () => {
      const memory = await fixture.open({ capacity: 2 });
      await memory.upsertMany([input('a'), input('b')]);
      await memory.upsert(input('unproven', { support: 0, successes: 0 }));
      expect(sortedIds(memory)).toEqual(['a', 'b']);
    });

    it('never evicts a consolidated pattern', async () => {
      const memory = await fixture.open({ capacity: 2 });
      await memory.upsertMany([input('weak', { confidence: 0.01 }), input('strong', { confidence: 0.3 })]);
      await memory.consolidate(['weak']);
      await memory.upsert(input('next'));
      expect(sortedIds(memory)).toEqual(['next', 'weak']);

      await memory.consolidate(['next']);
      await memory.upsert(input('overflow', { confidence: 1, support: 1000, successes: 1000 }));
      expect(sortedIds(memory)).toEqual(['next', 'weak']);
    });

    it('refuses a write, changing nothing, when it cannot get back under capacity without evicting a consolidated pattern', async () => {
      const dir = fixture.dir();
      const memory = await fixture.open({ path: dir });
      await memory.upsertMany([input('a'), input('b')]);
      await memory.consolidate(['a', 'b']);
      await memory.close();

      const smaller = await fixture.open({ path: dir, capacity: 1 });
      const seq = smaller.lastSeq();
      await expect(smaller.upsert(input('c'))).rejects.toThrow(MemoryFullError);
      await expect(smaller.upsert(input('c'))).rejects.toMatchObject({ code: 'MEMORY_FULL', capacity: 1 });
      expect(sortedIds(smaller)).toEqual(['a', 'b']);
      expect(smaller.lastSeq()).toBe(seq);

      await smaller.release(['b']);
      expect(sortedIds(smaller)).toEqual(['a']);
    });

    it('applies a smaller capacity given at reopen on the next write', async () => {
      const dir = fixture.dir();
      const memory = await fixture.open({ path: dir });
      await memory.upsertMany([input('a', { confidence: 0.1 }), input('b', { confidence: 0.2 }), input('c', { confidence: 0.3 })]);
      await memory.close();
      const smaller = await fixture.open({ path: dir, capacity: 2 });
      await smaller.upsert(input('d', { confidence: 0.4 }));
      expect(sortedIds(smaller)).toEqual(['c', 'd']);
    });
  });
});
