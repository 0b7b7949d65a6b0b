import { describe, expect, it } from 'vitest';
import { PatternCache } from '../../src/memory/cache.js';
import type { Pattern } from '../../src/memory/pattern.js';
import { DIMENSIONS, FEATURE_SPACE, input, useMemoryFixture } from './support.js';

const nextTurn = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 1));

/**
 * Two memories opened on one directory keep separate caches, exactly as two
 * processes would, so each one's writes are foreign to the other.
 */
describe('pattern read cache', () => {
  const fixture = useMemoryFixture();

  it('sees another writer’s change from the next event-loop turn on', async () => {
    const dir = fixture.dir();
    const writer = await fixture.open({ path: dir });
    const reader = await fixture.open({ path: dir });
    await writer.upsert(input('a', { confidence: 0.1 }));
    await nextTurn();
    expect(reader.get('a')?.confidence).toBe(0.1);

    await writer.upsert(input('a', { confidence: 0.2 }));
    await writer.delete('a');
    await writer.upsert(input('b'));
    await nextTurn();
    expect(reader.get('a')).toBeUndefined();
    expect(reader.has('b')).toBe(true);
  });

  it('reads the current version inside a write after another writer changed the pattern', async () => {
    const dir = fixture.dir();
    const first = await fixture.open({ path: dir });
    const second = await fixture.open({ path: dir });
    await first.upsert(input('a'));
    await nextTurn();
    expect(second.get('a')?.version).toBe(1);
    await first.upsert(input('a'));
    expect(await second.upsert(input('a'))).toMatchObject({ version: 3 });
    expect(await first.upsert(input('a'))).toMatchObject({ version: 4 });
    await nextTurn();
    expect(first.get('a')?.version).toBe(4);
    expect(second.get('a')?.version).toBe(4);
  });

  it('hands out copies: changing a returned pattern changes nothing stored', async () => {
    const memory = await fixture.open();
    const written = await memory.upsert(input('a'));
    (written.embedding as Float32Array)[0] = 42;
    const read = memory.get('a');
    (read?.embedding as Float32Array)[1] = 42;
    (read?.tags as string[]).push('mutated');
    const [consolidated] = await memory.consolidate(['a']);
    (consolidated?.embedding as Float32Array)[2] = 42;
    expect(memory.get('a')).toMatchObject({ embedding: input('a').embedding, tags: ['bullish_reversal'], consolidated: true });
  });

  it('reads through LMDB when the cache is off', async () => {
    const dir = fixture.dir();
    const memory = await fixture.open({ path: dir, cacheSize: 0 });
    await memory.upsertMany([input('b'), input('c')]);
    const written = await memory.upsert(input('a'));
    expect(memory.get('a')).toEqual(written);
    expect(memory.get('c')).toMatchObject({ id: 'c', embedding: input('c').embedding, version: 1 });
    await expect(fixture.open({ cacheSize: -1 })).rejects.toMatchObject({ code: 'MEMORY_OPTIONS', option: 'cacheSize' });
  });
});

describe('pattern read cache, while a write commits', () => {
  const expectations = { dimensions: DIMENSIONS, featureSpaceId: FEATURE_SPACE };
  const stored = (id: string, version: number): Pattern => ({
    ...input(id, { confidence: version / 10 }),
    featureSpaceId: FEATURE_SPACE,
    tags: ['bullish_reversal'],
    version,
    consolidated: false,
    plasticity: 1,
    createdAt: 1,
    updatedAt: 1,
  });

  it('copies a staged write in ahead of its commit but shows it to reads only once the commit is reported', async () => {
    const cache = new PatternCache(10, 0, expectations);
    cache.rememberRead(0, stored('a', 1));
    cache.beginWrite(0);
    const written = stored('a', 2);
    const changes = { from: 1, to: 2, patterns: new Map<string, Pattern | null>([['a', written], ['b', null]]), adopt: false };
    cache.stage(changes);
    await Promise.resolve();

    expect(cache.lookup('a')).toBe(written);
    expect(cache.lookup('b')).toBeNull();
    expect(cache.committed('a')).toBeUndefined();
    cache.rememberRead(0, stored('a', 1));
    expect(cache.committed('a')).toBeUndefined();

    cache.settle(changes);
    expect(cache.committed('a')).toEqual(written);
    expect(cache.committed('a')).not.toBe(written);
    expect(cache.committed('a')?.embedding).not.toBe(written.embedding);
    expect(cache.committed('b')).toBeUndefined();
  });

  it('drops copies made ahead of a commit that fails', async () => {
    const cache = new PatternCache(10, 0, expectations);
    cache.beginWrite(0);
    cache.stage({ from: 1, to: 1, patterns: new Map([['a', stored('a', 1)]]), adopt: false });
    await Promise.resolve();
    cache.clear();
    cache.beginWrite(0);
    expect(cache.lookup('a')).toBeUndefined();
  });

  it('makes the copies when the commit is reported if the cache was reset before it could', async () => {
    const cache = new PatternCache(10, 0, expectations);
    cache.beginWrite(0);
    const changes = { from: 1, to: 1, patterns: new Map([['a', stored('a', 1)]]), adopt: false };
    cache.stage(changes);
    cache.clear();
    await Promise.resolve();
    expect(cache.committed('a')).toBeUndefined();
    cache.settle(changes);
    expect(cache.committed('a')).toEqual(stored('a', 1));
  });

  it('keeps the patterns of an adopting write as they are, with no copy', async () => {
    const cache = new PatternCache(10, 0, expectations);
    cache.beginWrite(0);
    const written = { ...stored('a', 1), embedding: cache.ownEmbedding(input('a').embedding) };
    const changes = { from: 1, to: 1, patterns: new Map([['a', written]]), adopt: true };
    cache.stage(changes);
    await Promise.resolve();
    cache.settle(changes);
    expect(cache.committed('a')).toBe(written);
  });
});
