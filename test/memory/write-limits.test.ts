import { describe, expect, it } from 'vitest';
import type { JournalEvent } from '../../src/memory/journal.js';
import { MAX_TIME, MAX_VERSION, PatternValidationError, type Pattern } from '../../src/memory/pattern.js';
import { PatternSearch } from '../../src/memory/search.js';
import type { PatternMemory } from '../../src/memory/store.js';
import { DIMENSIONS, FEATURE_SPACE, input, manualClock, useMemoryFixture } from './support.js';

const zeros = (): Float32Array => new Float32Array(DIMENSIONS);

function stored(id: string, overrides: Partial<Pattern> = {}): Pattern {
  return {
    ...input(id),
    tags: ['bullish_reversal'],
    featureSpaceId: FEATURE_SPACE,
    version: 1,
    consolidated: false,
    plasticity: 1,
    createdAt: 1_700_000_000_000,
    updatedAt: 1_700_000_000_000,
    ...overrides,
  };
}

/** What must not move when a write is refused. */
function fingerprint(memory: PatternMemory): string {
  return JSON.stringify([memory.count(), memory.lastSeq(), [...memory.iterate()].map((p) => [p.id, p.version, [...p.embedding]])]);
}

async function refusedField(write: Promise<unknown>): Promise<string> {
  const error = await write.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(PatternValidationError);
  return (error as PatternValidationError).field;
}

/**
 * Patterns a memory may hold from before it refused them (or from a peer
 * that did not), written the one way that still takes them: a restore of
 * that history, as the journal records it.
 */
const OLD_HISTORY: readonly JournalEvent[] = [
  { type: 'import', seq: 1, at: 1_700_000_000_000, source: 'old-peer', pattern: stored('zero', { embedding: zeros() }) },
  { type: 'import', seq: 2, at: 1_700_000_000_000, source: 'old-peer', pattern: stored('ancient', { version: Number.MAX_SAFE_INTEGER }) },
  { type: 'import', seq: 3, at: 1_700_000_000_000, source: 'old-peer', pattern: stored('future', { createdAt: 1e300, updatedAt: 1e300 }) },
  { type: 'upsert', seq: 4, at: 1_700_000_000_000, pattern: stored('fine') },
];

describe('pattern memory write limits', () => {
  const fixture = useMemoryFixture();

  it('refuses an all-zero embedding on upsert, merge and import, writing nothing', async () => {
    const memory = await fixture.open();
    await memory.upsertMany([input('a'), input('b')]);
    const before = fingerprint(memory);

    expect(await refusedField(memory.upsert(input('zero', { embedding: zeros() })))).toBe('embedding');
    expect(await refusedField(memory.upsert(input('a', { embedding: zeros() })))).toBe('embedding');
    expect(await refusedField(memory.merge(['a', 'b'], input('a', { embedding: zeros() })))).toBe('embedding');
    expect(await refusedField(memory.importPatterns([stored('c'), stored('zero', { embedding: zeros() })], { source: 'peer' }))).toBe('embedding');

    expect(fingerprint(memory)).toBe(before);
  });

  it('refuses an upsert that would take a pattern past MAX_VERSION, keeping the stored one', async () => {
    const memory = await fixture.open();
    await memory.importPatterns([stored('top', { version: MAX_VERSION - 1 })], { source: 'peer' });
    expect(memory.get('top')?.version).toBe(MAX_VERSION);
    const before = fingerprint(memory);

    expect(await refusedField(memory.upsert(input('top', { confidence: 0.9 })))).toBe('version');
    expect(await refusedField(memory.importPatterns([stored('top')], { source: 'peer' }))).toBe('version');

    expect(fingerprint(memory)).toBe(before);
  });

  it('refuses an import or upsert stamped past the last time a Date can hold', async () => {
    const memory = await fixture.open();
    expect(await refusedField(memory.importPatterns([stored('future', { createdAt: 1, updatedAt: MAX_TIME + 1 })], { source: 'peer' }))).toBe('updatedAt');
    expect(memory.count()).toBe(0);

    const clock = manualClock(MAX_TIME);
    const late = await fixture.open({ clock: clock.now });
    await late.upsert(input('last'));
    clock.advance(1);
    expect(['createdAt', 'updatedAt']).toContain(await refusedField(late.upsert(input('last'))));
    expect(await refusedField(late.upsert(input('new')))).toBe('createdAt');
    expect(late.get('last')?.updatedAt).toBe(MAX_TIME);
  });

  it('still opens, reads and searches a memory holding patterns from before these limits', async () => {
    const dir = fixture.dir();
    const old = await fixture.open({ path: dir });
    await old.restore({ events: OLD_HISTORY });
    await old.close();

    const memory = await fixture.open({ path: dir });
    expect(memory.count()).toBe(4);
    expect([...memory.get('zero')!.embedding]).toEqual([...zeros()]);
    expect(memory.get('ancient')?.version).toBe(Number.MAX_SAFE_INTEGER);
    expect(memory.get('future')?.updatedAt).toBe(1e300);
    expect([...memory.iterate()].map((p) => p.id)).toEqual(['ancient', 'fine', 'future', 'zero']);
    expect(memory.checkIntegrity().ok).toBe(true);

    const warnings: string[] = [];
    const search = await PatternSearch.open(memory, { hnsw: false, onWarning: (message) => warnings.push(message) });
    expect(search.opened).toMatchObject({ patterns: 3, ignored: 1 });
    expect(warnings).toEqual([expect.stringMatching(/ignored 1 pattern\(s\) .* all-zero embedding/)]);
    expect((await search.search(input('q').embedding, 4)).map((m) => m.id).sort()).toEqual(['ancient', 'fine', 'future']);
    search.index.close();

    // The limits hold for what is written next: the old pattern is updated only to something valid.
    expect(await refusedField(memory.upsert(input('ancient')))).toBe('version');
    await memory.upsert(input('zero'));
    expect(memory.get('zero')?.embedding).toEqual(input('zero').embedding);
  });

  it('rebuilds, through restore, a memory whose history predates these limits', async () => {
    const source = await fixture.open();
    await source.restore({ events: OLD_HISTORY });
    const copy = await fixture.open();
    await copy.restore(source.recoverySource());
    expect(copy.lastSeq()).toBe(source.lastSeq());
    expect([...copy.iterate()].map((p) => [p.id, p.version])).toEqual([...source.iterate()].map((p) => [p.id, p.version]));
  });
});
