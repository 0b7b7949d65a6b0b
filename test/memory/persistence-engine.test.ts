import { describe, expect, it } from 'vitest';
import type { PersistedEvent, PersistenceEngine } from '../../src/persistence.js';
import { CorruptRecordError, PersistenceConflictError } from '../../src/memory/errors.js';
import { openLmdbPersistence, type LmdbPersistence } from '../../src/memory/persistence-engine.js';
import { useMemoryFixture, writeRaw } from './support.js';

function event(key: string, sequenceNumber: number, data: unknown = { n: sequenceNumber }): PersistedEvent {
  return { key, sequenceNumber, data, tags: ['learned'], createdAt: 1_700_000_000_000 + sequenceNumber, isDeleted: false };
}

async function eventsOf(engine: PersistenceEngine, key: string, after = 0): Promise<PersistedEvent[]> {
  const all: PersistedEvent[] = [];
  for await (const e of engine.events(key, after)) all.push(e);
  return all;
}

describe('LMDB persistence engine', () => {
  const fixture = useMemoryFixture();
  const open = (path = fixture.dir()): LmdbPersistence => fixture.track(openLmdbPersistence({ path }));

  it('returns the events of one key after a sequence number, in order', async () => {
    const engine = open();
    for (let n = 1; n <= 5; n++) await engine.persist(event('agent-1', n));
    await engine.persist(event('agent-10', 1));
    await engine.persist(event('agent-', 1));

    expect(await eventsOf(engine, 'agent-1')).toEqual([1, 2, 3, 4, 5].map((n) => event('agent-1', n)));
    expect((await eventsOf(engine, 'agent-1', 3)).map((e) => e.sequenceNumber)).toEqual([4, 5]);
    expect(await eventsOf(engine, 'agent-1', 5)).toEqual([]);
    expect(await eventsOf(engine, 'agent-10')).toEqual([event('agent-10', 1)]);
    expect(await eventsOf(engine, 'nobody')).toEqual([]);
  });

  it('streams a long history in order', async () => {
    const engine = open();
    await Promise.all(Array.from({ length: 3000 }, (_, i) => engine.persist(event('long', i + 1))));
    const seen = (await eventsOf(engine, 'long')).map((e) => e.sequenceNumber);
    expect(seen).toEqual(Array.from({ length: 3000 }, (_, i) => i + 1));
  });

  it('refuses an event whose sequence number does not move forward', async () => {
    const engine = open();
    await engine.persist(event('a', 1));
    await engine.persist(event('a', 2));
    await expect(engine.persist(event('a', 2, 'duplicate'))).rejects.toThrow(PersistenceConflictError);
    await expect(engine.persist(event('a', 1))).rejects.toMatchObject({ code: 'PERSISTENCE_CONFLICT', key: 'a', lastSequenceNumber: 2 });
    await expect(engine.persist(event('a', 2.5))).rejects.toThrow(PersistenceConflictError);
    expect((await eventsOf(engine, 'a')).map((e) => e.data)).toEqual([{ n: 1 }, { n: 2 }]);
  });

  it('keeps the data of events and snapshots as written, typed arrays included', async () => {
    const engine = open();
    const data = { weights: Float32Array.of(0.25, -1.5), nested: { list: [1, 'two', null], flag: true }, when: new Date(5) };
    await engine.persist({ ...event('typed', 1), data, tags: [], isDeleted: true });
    const [stored] = await eventsOf(engine, 'typed');
    expect(stored).toEqual({ ...event('typed', 1), data, tags: [], isDeleted: true });
    expect(stored?.data).toMatchObject({ weights: expect.any(Float32Array) });

    await engine.takeSnapshot({ key: 'typed', sequenceNumber: 1, data, createdAt: 9 });
    expect(await engine.latestSnapshot('typed')).toEqual({ key: 'typed', sequenceNumber: 1, data, createdAt: 9 });
  });

  it('keeps only the newest snapshot per key', async () => {
    const engine = open();
    expect(await engine.latestSnapshot('a')).toBeUndefined();
    await engine.takeSnapshot({ key: 'a', sequenceNumber: 10, data: 'ten', createdAt: 1 });
    await engine.takeSnapshot({ key: 'a', sequenceNumber: 4, data: 'four', createdAt: 2 });
    await engine.takeSnapshot({ key: 'b', sequenceNumber: 1, data: 'b', createdAt: 3 });
    expect(await engine.latestSnapshot('a')).toMatchObject({ sequenceNumber: 10, data: 'ten' });
    await engine.takeSnapshot({ key: 'a', sequenceNumber: 12, data: 'twelve', createdAt: 4 });
    expect(await engine.latestSnapshot('a')).toMatchObject({ sequenceNumber: 12, data: 'twelve' });
  });

  it('survives a reopen with every persisted event and snapshot', async () => {
    const dir = fixture.dir();
    const first = open(dir);
    await Promise.all(Array.from({ length: 50 }, (_, i) => first.persist(event('agent', i + 1))));
    await first.takeSnapshot({ key: 'agent', sequenceNumber: 40, data: { total: 40 }, createdAt: 1 });
    await first.close();

    const second = open(dir);
    const snapshot = await second.latestSnapshot('agent');
    expect(snapshot).toEqual({ key: 'agent', sequenceNumber: 40, data: { total: 40 }, createdAt: 1 });
    expect((await eventsOf(second, 'agent', snapshot?.sequenceNumber)).map((e) => e.sequenceNumber)).toEqual(
      Array.from({ length: 10 }, (_, i) => i + 41),
    );
    await second.persist(event('agent', 51));
    await expect(second.persist(event('agent', 51))).rejects.toThrow(PersistenceConflictError);
  });

  it('gives a typed error for a corrupt event or snapshot record', async () => {
    const dir = fixture.dir();
    const engine = open(dir);
    await engine.persist(event('agent', 1));
    await engine.takeSnapshot({ key: 'agent', sequenceNumber: 1, data: 1, createdAt: 1 });
    await engine.close();
    await writeRaw(dir, 'actor-events', ['agent', 2], Uint8Array.of(0xc1));
    await writeRaw(dir, 'actor-snapshots', 'agent', Uint8Array.of(0x93, 0x01));

    const reopened = open(dir);
    await expect(eventsOf(reopened, 'agent')).rejects.toMatchObject({ code: 'CORRUPT_RECORD', database: 'actor-events' });
    await expect(reopened.latestSnapshot('agent')).rejects.toThrow(CorruptRecordError);
  });
});
