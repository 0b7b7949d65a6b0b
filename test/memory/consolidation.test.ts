import { open } from 'lmdb';
import { describe, expect, it } from 'vitest';
import {
  CONSOLIDATED_PLASTICITY,
  DEFAULT_PLASTICITY,
  consolidate,
  type ConsolidationCriterion,
  type ConsolidationOptions,
} from '../../src/memory/consolidation.js';
import type { JournalEvent } from '../../src/memory/journal.js';
import { InvalidOptionError } from '../../src/memory/options.js';
import type { PatternMemory } from '../../src/memory/store.js';
import { createRandom } from '../../src/random.js';
import { input, manualClock, randomInput, rawRecords, sortedIds, useMemoryFixture } from './support.js';

const DAY = 24 * 60 * 60 * 1000;

async function events(memory: PatternMemory, from: number): Promise<JournalEvent[]> {
  const all: JournalEvent[] = [];
  for await (const event of memory.replay({ from })) all.push(event);
  return all;
}

function consolidatedIds(memory: PatternMemory): string[] {
  return [...memory.iterate()].filter((p) => p.consolidated).map((p) => p.id);
}

describe('consolidate', () => {
  const fixture = useMemoryFixture();

  /** Utility (confidence × support): a 9, b 8, c 4.5, d 2, e 0.5. */
  async function ranked(): Promise<PatternMemory> {
    const memory = await fixture.open();
    await memory.upsertMany([
      input('a', { confidence: 0.9, support: 10, successes: 9 }),
      input('b', { confidence: 0.4, support: 20, successes: 8 }),
      input('c', { confidence: 0.9, support: 5, successes: 4 }),
      input('d', { confidence: 0.1, support: 20, successes: 2 }),
      input('e', { confidence: 0.5, support: 1, successes: 1 }),
    ]);
    return memory;
  }

  it('consolidates the top fraction by utility and lowers only their plasticity', async () => {
    const memory = await ranked();

    const result = await consolidate(memory, { topFraction: 0.4 });

    expect(result.consolidated).toEqual(['a', 'b']);
    expect(consolidatedIds(memory)).toEqual(['a', 'b']);
    for (const p of memory.iterate()) {
      expect(p.plasticity).toBe(p.consolidated ? CONSOLIDATED_PLASTICITY : DEFAULT_PLASTICITY);
    }
    expect(result.protectedCount).toBe(2);
  });

  it('rounds the top fraction up, so any fraction of a non-empty memory protects something', async () => {
    const memory = await ranked();
    expect((await consolidate(memory, { topFraction: 0.01 })).consolidated).toEqual(['a']);
  });

  it('takes exactly the fraction asked for when it is whole, despite floating-point products', async () => {
    const memory = await fixture.open();
    await memory.upsertMany(Array.from({ length: 100 }, (_, i) => input(`p${i}`, { support: 10 + i })));
    expect(0.07 * 100).not.toBe(7);
    expect((await consolidate(memory, { topFraction: 0.07 })).consolidated).toHaveLength(7);
  });

  it('ranks by support when asked, ties going to the smaller id', async () => {
    const memory = await ranked();
    expect((await consolidate(memory, { topFraction: 0.4 }, { rank: 'support' })).consolidated).toEqual(['b', 'd']);
  });

  it('consolidates every pattern with at least minSupport, with the plasticity asked for', async () => {
    const memory = await ranked();
    const result = await consolidate(memory, { minSupport: 10 }, { plasticity: 0.25 });
    expect(result.consolidated).toEqual(['a', 'b', 'd']);
    expect(memory.get('d')).toMatchObject({ consolidated: true, plasticity: 0.25 });
  });

  it('journals one consolidate event per newly consolidated pattern, then the exemplar buffer, and leaves consolidated ones untouched', async () => {
    const memory = await ranked();
    await memory.consolidate(['a'], { plasticity: 0.3 });
    const seq = memory.lastSeq();

    const result = await consolidate(memory, { topFraction: 0.4 });

    expect(result).toMatchObject({ consolidated: ['b'], alreadyConsolidated: ['a'], protectedCount: 2 });
    expect(await events(memory, seq + 1)).toMatchObject([
      { type: 'consolidate', id: 'b', consolidated: true, plasticity: CONSOLIDATED_PLASTICITY },
      { type: 'exemplars', ids: ['a', 'b'] },
    ]);
    expect(memory.get('a')?.plasticity).toBe(0.3);
    expect(await consolidate(memory, { topFraction: 0.4 })).toMatchObject({ consolidated: [], alreadyConsolidated: ['a', 'b'] });
    expect(memory.lastSeq()).toBe(seq + 2);
  });

  it('protects consolidated patterns from eviction under capacity pressure, where they would otherwise go first', async () => {
    const run = async (protect: boolean): Promise<string[]> => {
      const clock = manualClock();
      const memory = await fixture.open({ capacity: 10, clock: clock.now });
      await memory.upsertMany(Array.from({ length: 10 }, (_, i) => input(`old${i}`, { confidence: 0.9, support: 40 + i, successes: 30 })));
      if (protect) await consolidate(memory, { topFraction: 0.3 });
      // Ten half-lives later the old patterns' utility has decayed below any fresh pattern's.
      clock.advance(70 * DAY);
      for (let i = 0; i < 20; i++) await memory.upsert(input(`new${i}`, { confidence: 0.5, support: 10 }));
      expect(memory.count()).toBe(10);
      return sortedIds(memory).filter((id) => id.startsWith('old'));
    };

    expect(await run(false)).toEqual([]);
    expect(await run(true)).toEqual(['old7', 'old8', 'old9']);
  });

  it('keeps a bounded exemplar buffer of the best consolidated patterns, drawn in turn from every outcome and condition (seed 8)', async () => {
    const memory = await fixture.open();
    const random = createRandom(8);
    await memory.upsertMany(Array.from({ length: 60 }, (_, i) => randomInput(random, `p${String(i).padStart(2, '0')}`)));

    const result = await consolidate(memory, { topFraction: 0.5 }, { exemplars: { capacity: 6 } });

    const protectedPatterns = [...memory.iterate()].filter((p) => p.consolidated);
    expect(result.exemplars).toHaveLength(6);
    expect(new Set(result.exemplars.map((p) => p.id)).size).toBe(6);
    for (const exemplar of result.exemplars) expect(memory.get(exemplar.id)).toEqual(exemplar);
    const strata = new Set(protectedPatterns.map((p) => `${p.outcome}/${p.condition ?? ''}`));
    expect(strata.size).toBe(4);
    expect(new Set(result.exemplars.map((p) => `${p.outcome}/${p.condition ?? ''}`)).size).toBe(4);
    const best = [...protectedPatterns].sort((a, b) => b.confidence * b.support - a.confidence * a.support)[0];
    expect(result.exemplars[0]?.id).toBe(best?.id);

    const all = await consolidate(memory, { topFraction: 0.5 }, { exemplars: { capacity: 1000 } });
    expect(all.exemplars).toHaveLength(protectedPatterns.length);
  });

  it('is reproduced by replaying the journal into a fresh memory (seed 21)', async () => {
    const clock = manualClock();
    const source = await fixture.open({ clock: clock.now });
    const random = createRandom(21);
    await source.upsertMany(Array.from({ length: 50 }, (_, i) => randomInput(random, `p${i}`)));
    clock.advance(1000);
    await consolidate(source, { minSupport: 30 });

    const rebuilt = await fixture.open();
    await rebuilt.restore({ events: source.replay() });
    expect(consolidatedIds(rebuilt)).toEqual(consolidatedIds(source));
    await source.close();
    await rebuilt.close();
    expect(await rawRecords(rebuilt.path, 'patterns')).toEqual(await rawRecords(source.path, 'patterns'));
  });

  describe('exemplar buffer', () => {
    async function withExemplars(seed: number): Promise<{ memory: PatternMemory; ids: string[] }> {
      const clock = manualClock();
      const memory = await fixture.open({ clock: clock.now });
      const random = createRandom(seed);
      await memory.upsertMany(Array.from({ length: 40 }, (_, i) => randomInput(random, `p${String(i).padStart(2, '0')}`)));
      clock.advance(1000);
      const result = await consolidate(memory, { topFraction: 0.5 }, { exemplars: { capacity: 5 } });
      return { memory, ids: result.exemplars.map((p) => p.id) };
    }

    it('persists the buffer consolidate returns, in its order, and keeps it across a reopen (seed 31)', async () => {
      const { memory, ids } = await withExemplars(31);
      expect(ids).toHaveLength(5);
      expect(memory.exemplars().map((p) => p.id)).toEqual(ids);
      await memory.close();

      const reopened = await fixture.open({ path: memory.path });
      expect(reopened.exemplars().map((p) => p.id)).toEqual(ids);
      for (const exemplar of reopened.exemplars()) expect(exemplar).toEqual(reopened.get(exemplar.id));
      expect(reopened.checkIntegrity()).toMatchObject({ ok: true });
    });

    it('is journaled: a memory rebuilt from the journal, or from a snapshot and the journal tail, holds the same buffer (seed 32)', async () => {
      const { memory, ids } = await withExemplars(32);
      const exemplarEvents = (await events(memory, 1)).filter((event) => event.type === 'exemplars');
      expect(exemplarEvents).toEqual([expect.objectContaining({ type: 'exemplars', ids })]);

      const fromJournal = await fixture.open();
      await fromJournal.restore({ events: memory.replay() });
      expect(fromJournal.exemplars().map((p) => p.id)).toEqual(ids);

      await memory.takeSnapshot();
      await memory.upsert(input('late'));
      await memory.compact();
      const fromSnapshot = await fixture.open();
      await fromSnapshot.restore(memory.recoverySource());
      expect(fromSnapshot.exemplars().map((p) => p.id)).toEqual(ids);
      expect(fromSnapshot.checkIntegrity()).toMatchObject({ ok: true });

      // A later buffer replaces the earlier one on replay too.
      await memory.setExemplars([ids[2] as string, 'late']);
      const again = await fixture.open();
      await again.restore(memory.recoverySource());
      expect(again.exemplars().map((p) => p.id)).toEqual([ids[2], 'late']);
    });

    it('writes nothing when the buffer does not change, refuses an unknown id, and leaves out a pattern deleted since', async () => {
      const memory = await fixture.open();
      await memory.upsertMany([input('a'), input('b'), input('c')]);
      expect(await memory.setExemplars(['b', 'a', 'b'])).toEqual(['b', 'a']);
      const seq = memory.lastSeq();
      expect(await memory.setExemplars(['b', 'a'])).toEqual(['b', 'a']);
      expect(memory.lastSeq()).toBe(seq);
      await expect(memory.setExemplars(['a', 'nope'])).rejects.toMatchObject({ code: 'PATTERN_NOT_FOUND' });
      expect(memory.exemplars().map((p) => p.id)).toEqual(['b', 'a']);
      await memory.delete('b');
      expect(memory.exemplars().map((p) => p.id)).toEqual(['a']);
      expect(memory.checkIntegrity()).toMatchObject({ ok: true });
    });

    it('is checked by the integrity check against the journal', async () => {
      const memory = await fixture.open();
      await memory.upsertMany([input('a'), input('b')]);
      await memory.setExemplars(['a']);
      await memory.close();
      const root = open({ path: memory.path, maxDbs: 8, noSubdir: false });
      await root.openDB({ name: 'meta' }).put('exemplars', ['b']);
      await root.close();
      const reopened = await fixture.open({ path: memory.path });
      const report = reopened.checkIntegrity();
      expect(report.ok).toBe(false);
      expect(report.problems).toContain('the exemplar buffer holds ["b"], the journal produces ["a"]');
    });
  });

  it.each<[string, unknown, unknown]>([
    ['criterion', { topFraction: 0.5, minSupport: 3 }, {}],
    ['criterion', {}, {}],
    ['criterion.topFraction', { topFraction: 0 }, {}],
    ['criterion.topFraction', { topFraction: 1.5 }, {}],
    ['criterion.minSupport', { minSupport: -2 }, {}],
    ['criterion.fraction', { fraction: 0.5 }, {}],
    ['rank', { topFraction: 0.5 }, { rank: 'recency' }],
    ['plasticity', { topFraction: 0.5 }, { plasticity: 2 }],
    ['exemplars.capacity', { topFraction: 0.5 }, { exemplars: { capacity: 0 } }],
    ['exemplars.size', { topFraction: 0.5 }, { exemplars: { size: 3 } }],
  ])('refuses a bad %s, naming it, and changes nothing', async (option, criterion, options) => {
    const memory = await ranked();
    const error = await consolidate(memory, criterion as ConsolidationCriterion, options as ConsolidationOptions).catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect(error).toMatchObject({ option });
    expect(consolidatedIds(memory)).toEqual([]);
  });
});
