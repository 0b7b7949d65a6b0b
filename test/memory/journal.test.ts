import { describe, expect, it } from 'vitest';
import { JournalError, MemoryFullError, PatternNotFoundError } from '../../src/memory/errors.js';
import type { JournalEvent } from '../../src/memory/journal.js';
import type { PatternMemory } from '../../src/memory/store.js';
import { createRandom, type Random } from '../../src/random.js';
import { input, manualClock, randomInput, rawRecords, useMemoryFixture } from './support.js';

async function collect(events: AsyncIterable<JournalEvent>): Promise<JournalEvent[]> {
  const all: JournalEvent[] = [];
  for await (const event of events) all.push(event);
  return all;
}

/**
 * Drives a memory through `total` seeded random mutations of every kind,
 * issued in concurrent rounds so lmdb batches several into one transaction.
 * Refused operations (a merge racing a delete, a full memory) are part of
 * the workload: they must leave no trace.
 */
async function mutateRandomly(memory: PatternMemory, random: Random, total: number, advance: (ms: number) => void): Promise<void> {
  const ids: string[] = [];
  const pick = (): string => ids[random.int(0, ids.length - 1)] ?? 'none';
  let next = 0;
  for (let done = 0; done < total; ) {
    const round: Promise<unknown>[] = [];
    for (let i = 0; i < 25 && done < total; i++, done++) {
      advance(random.int(0, 60_000));
      const roll = random.next();
      if (ids.length < 5 || roll < 0.35) {
        const id = `p${next++}`;
        ids.push(id);
        round.push(memory.upsert(randomInput(random, id)));
      } else if (roll < 0.6) {
        round.push(memory.upsert(randomInput(random, pick())));
      } else if (roll < 0.65) {
        const batch = Array.from({ length: random.int(2, 5) }, () => {
          const id = `p${next++}`;
          ids.push(id);
          return randomInput(random, id);
        });
        round.push(memory.upsertMany(batch));
      } else if (roll < 0.72) {
        round.push(memory.delete(pick()));
      } else if (roll < 0.8) {
        round.push(memory.merge([pick(), pick(), pick()], randomInput(random, pick())));
      } else if (roll < 0.85) {
        round.push(memory.consolidate([pick()], { plasticity: random.next() }));
      } else if (roll < 0.9) {
        round.push(memory.release([pick(), pick()]));
      } else {
        const id = `p${next++}`;
        ids.push(id);
        const pattern = { ...randomInput(random, id), version: random.int(1, 9), featureSpaceId: memory.featureSpaceId, tags: [], consolidated: false, plasticity: 0.5, createdAt: 1, updatedAt: 2 };
        round.push(memory.importPatterns([pattern], { source: 'agent-9' }));
      }
    }
    const outcomes = await Promise.allSettled(round);
    for (const outcome of outcomes) {
      if (outcome.status === 'rejected' && !(outcome.reason instanceof PatternNotFoundError || outcome.reason instanceof MemoryFullError)) {
        throw outcome.reason;
      }
    }
  }
}

describe('pattern journal', () => {
  const fixture = useMemoryFixture();

  it('journals every kind of mutation with consecutive sequence numbers', async () => {
    const clock = manualClock();
    const memory = await fixture.open({ capacity: 3, clock: clock.now });
    await memory.upsertMany([input('a'), input('b')]);
    await memory.consolidate(['a']);
    await memory.merge(['b'], input('b2'));
    await memory.importPatterns([{ ...(memory.get('a')!), id: 'i' }], { source: 'agent-2' });
    await memory.upsert(input('weak', { confidence: 0, support: 0, successes: 0 }));
    await memory.release(['a']);
    await memory.delete('i');

    const events = await collect(memory.replay());
    expect(events.map((e) => [e.seq, e.type])).toEqual([
      [1, 'upsert'],
      [2, 'upsert'],
      [3, 'consolidate'],
      [4, 'merge'],
      [5, 'import'],
      [6, 'upsert'],
      [7, 'evict'],
      [8, 'consolidate'],
      [9, 'delete'],
    ]);
    expect(events[3]).toMatchObject({ sources: ['b'], pattern: { id: 'b2' } });
    expect(events[4]).toMatchObject({ source: 'agent-2', pattern: { id: 'i' } });
    expect(events[6]).toMatchObject({ id: 'weak', at: clock.now() });
    expect(memory.lastSeq()).toBe(9);
  });

  it('journals nothing for a refused mutation', async () => {
    const memory = await fixture.open();
    await memory.upsert(input('a'));
    await expect(memory.merge(['a', 'ghost'], input('m'))).rejects.toThrow(PatternNotFoundError);
    await expect(memory.consolidate(['ghost'])).rejects.toThrow(PatternNotFoundError);
    expect((await collect(memory.replay())).map((e) => e.seq)).toEqual([1]);
  });

  it('replays an inclusive range of sequence numbers', async () => {
    const memory = await fixture.open();
    for (let i = 0; i < 30; i++) await memory.upsert(input(`p${i}`));
    expect((await collect(memory.replay({ from: 10, to: 12 }))).map((e) => e.seq)).toEqual([10, 11, 12]);
    expect((await collect(memory.replay({ from: 29 }))).map((e) => e.seq)).toEqual([29, 30]);
    expect(await collect(memory.replay({ from: 31 }))).toEqual([]);
  });

  it('rebuilds byte-identical pattern records from the journal of 10,000 random mutations (seed 20250611)', async () => {
    const clock = manualClock();
    const source = await fixture.open({ capacity: 300, clock: clock.now });
    await mutateRandomly(source, createRandom(20250611), 10_000, clock.advance);
    expect(source.checkIntegrity()).toMatchObject({ ok: true });
    const kinds = new Set((await collect(source.replay())).map((e) => e.type));
    expect([...kinds].sort()).toEqual(['consolidate', 'delete', 'evict', 'import', 'merge', 'upsert']);

    const rebuilt = await fixture.open();
    await rebuilt.restore({ events: source.replay() });
    expect(rebuilt.lastSeq()).toBe(source.lastSeq());
    expect(rebuilt.checkIntegrity()).toMatchObject({ ok: true });
    await source.close();
    await rebuilt.close();

    const original = await rawRecords(source.path, 'patterns');
    const copy = await rawRecords(rebuilt.path, 'patterns');
    expect(original.size).toBeGreaterThan(100);
    expect([...copy.keys()]).toEqual([...original.keys()]);
    for (const [key, bytes] of original) expect(copy.get(key)?.equals(bytes), key).toBe(true);
  });

  describe('snapshots and compaction', () => {
    it('rebuilds from the newest snapshot plus the journal tail, byte-identical (seed 99)', async () => {
      const clock = manualClock();
      const source = await fixture.open({ capacity: 100, clock: clock.now });
      const random = createRandom(99);
      await mutateRandomly(source, random, 1000, clock.advance);
      const snapshot = await source.takeSnapshot();
      expect(snapshot).toMatchObject({ seq: source.lastSeq(), count: source.count(), createdAt: clock.now() });
      await mutateRandomly(source, random, 500, clock.advance);

      const rebuilt = await fixture.open();
      await rebuilt.restore(source.recoverySource());
      expect(rebuilt.latestSnapshot()).toEqual(snapshot);
      expect(rebuilt.checkIntegrity()).toMatchObject({ ok: true, snapshotSeq: snapshot.seq });
      await source.close();
      await rebuilt.close();
      expect(await rawRecords(rebuilt.path, 'patterns')).toEqual(await rawRecords(source.path, 'patterns'));
    });

    it('drops journal events and snapshots older than the newest snapshot, and refuses to replay them', async () => {
      const memory = await fixture.open();
      for (let i = 0; i < 10; i++) await memory.upsert(input(`p${i}`));
      await memory.takeSnapshot();
      for (let i = 10; i < 15; i++) await memory.upsert(input(`p${i}`));
      const newest = await memory.takeSnapshot();
      await memory.upsert(input('tail'));

      expect(await memory.compact()).toEqual({ compactedThrough: 15, droppedEvents: 15, droppedSnapshots: 1 });
      expect(await memory.compact()).toEqual({ compactedThrough: 15, droppedEvents: 0, droppedSnapshots: 0 });
      expect(memory.latestSnapshot()).toEqual(newest);
      expect((await collect(memory.replay())).map((e) => e.seq)).toEqual([16]);
      await expect(collect(memory.replay({ from: 3 }))).rejects.toMatchObject({ code: 'JOURNAL_COMPACTED' });
      expect(memory.checkIntegrity()).toMatchObject({ ok: true, patterns: 16, events: 1, snapshotSeq: 15 });
    });

    it('takes one snapshot per sequence number', async () => {
      const memory = await fixture.open();
      await memory.upsert(input('a'));
      const first = await memory.takeSnapshot();
      expect(await memory.takeSnapshot()).toEqual(first);
    });
  });

  describe('restore', () => {
    it('refuses events that do not continue the journal', async () => {
      const source = await fixture.open();
      for (let i = 0; i < 5; i++) await source.upsert(input(`p${i}`));
      const target = await fixture.open();
      await expect(target.restore({ events: source.replay({ from: 2 }) })).rejects.toMatchObject({ code: 'JOURNAL_GAP' });
      expect(target.count()).toBe(0);
    });

    it('refuses invalid events, writing nothing of their chunk', async () => {
      const source = await fixture.open();
      const a = await source.upsert(input('a'));
      const target = await fixture.open();
      const upsert = { type: 'upsert', seq: 1, at: 1, pattern: a } as const;
      await expect(
        target.restore({ events: [upsert, { type: 'consolidate', seq: 2, at: 2, id: 'a', consolidated: true, plasticity: 5 }] }),
      ).rejects.toMatchObject({ code: 'PATTERN_INVALID', field: 'plasticity' });
      await expect(target.restore({ events: [{ ...upsert, pattern: { ...a, confidence: Number.NaN } }] })).rejects.toMatchObject({
        field: 'confidence',
      });
      expect(target.count()).toBe(0);
      expect(target.lastSeq()).toBe(0);
    });

    it('refuses a snapshot into a memory that is not empty', async () => {
      const source = await fixture.open();
      await source.upsert(input('a'));
      await source.takeSnapshot();
      const target = await fixture.open();
      await target.upsert(input('b'));
      await expect(target.restore(source.recoverySource())).rejects.toThrow(JournalError);
      expect([...target.iterate()].map((p) => p.id)).toEqual(['b']);
    });
  });
});
