import fs from 'node:fs';
import { open, type Database, type RootDatabase } from 'lmdb';
import type { PersistedEvent, PersistedSnapshot, PersistenceEngine } from '../persistence.js';
import { PersistenceConflictError } from './errors.js';
import { readKey, streamRange } from './ranges.js';
import { checkDataFile } from './data-file.js';

export interface LmdbPersistenceOptions {
  /** A directory of its own; created if missing. */
  readonly path: string;
}

export interface LmdbPersistence extends PersistenceEngine {
  close(): Promise<void>;
}

type EventKey = [actor: string, sequenceNumber: number];

interface StoredActorEvent {
  readonly data: unknown;
  readonly tags: readonly string[];
  readonly createdAt: number;
  readonly isDeleted: boolean;
}

interface StoredActorSnapshot {
  readonly sequenceNumber: number;
  readonly data: unknown;
  readonly createdAt: number;
}

/**
 * Persistent actors' events and snapshots on LMDB. Events are keyed by
 * [actor key, sequence number], so one actor's history is one contiguous
 * range; each actor keeps only its newest snapshot.
 *
 * Actor state is whatever the behaviour persists, so records are plain
 * msgpack without shared structures (arbitrary shapes would churn them),
 * with typed arrays kept as typed arrays.
 */
export function openLmdbPersistence(options: LmdbPersistenceOptions): LmdbPersistence {
  fs.mkdirSync(options.path, { recursive: true });
  checkDataFile(options.path);
  const root: RootDatabase = open({ path: options.path, maxDbs: 4, noSubdir: false });
  root.readerCheck();
  const encoding = { encoder: { moreTypes: true } } as const;
  const events = root.openDB<StoredActorEvent, EventKey>({ name: 'actor-events', ...encoding });
  const snapshots = root.openDB<StoredActorSnapshot, string>({ name: 'actor-snapshots', ...encoding });

  return {
    events(key, afterSequence) {
      return streamRange<EventKey, StoredActorEvent, PersistedEvent>(
        events,
        'actor-events',
        { start: [key, Math.floor(afterSequence) + 1], end: [key, Number.MAX_VALUE] },
        (eventKey, stored) => toEvent(key, eventKey[1], stored),
        (event) => [key, event.sequenceNumber],
      );
    },

    persist(event) {
      return events.childTransaction(() => {
        const last = lastSequence(events, event.key);
        if (!(Number.isSafeInteger(event.sequenceNumber) && event.sequenceNumber > last)) {
          throw new PersistenceConflictError(event.key, event.sequenceNumber, last);
        }
        events.put([event.key, event.sequenceNumber], {
          data: event.data,
          tags: [...event.tags],
          createdAt: event.createdAt,
          isDeleted: event.isDeleted,
        });
      });
    },

    async latestSnapshot(key) {
      return readKey(snapshots, 'actor-snapshots', key, undefined, (_key, stored) => toSnapshot(key, stored));
    },

    async takeSnapshot(snapshot) {
      await snapshots.childTransaction(() => {
        const current = snapshots.get(snapshot.key);
        if (current !== undefined && current.sequenceNumber > snapshot.sequenceNumber) return;
        snapshots.put(snapshot.key, { sequenceNumber: snapshot.sequenceNumber, data: snapshot.data, createdAt: snapshot.createdAt });
      });
    },

    async close() {
      await root.committed;
      await root.close();
    },
  };
}

function lastSequence(events: Database<StoredActorEvent, EventKey>, key: string): number {
  const [last] = events.getKeys({ start: [key, Number.MAX_VALUE], end: [key, 0], reverse: true, limit: 1 });
  return last?.[1] ?? 0;
}

function toEvent(key: string, sequenceNumber: number, stored: StoredActorEvent): PersistedEvent {
  if (typeof stored !== 'object' || stored === null) throw new TypeError('event record is not an object');
  if (!Array.isArray(stored.tags) || !stored.tags.every((tag) => typeof tag === 'string')) throw new TypeError('event tags are not strings');
  if (typeof stored.createdAt !== 'number' || typeof stored.isDeleted !== 'boolean') throw new TypeError('event record is malformed');
  return { key, sequenceNumber, data: stored.data, tags: stored.tags, createdAt: stored.createdAt, isDeleted: stored.isDeleted };
}

function toSnapshot(key: string, stored: StoredActorSnapshot): PersistedSnapshot {
  if (typeof stored !== 'object' || stored === null) throw new TypeError('snapshot record is not an object');
  if (!Number.isSafeInteger(stored.sequenceNumber) || typeof stored.createdAt !== 'number') {
    throw new TypeError('snapshot record is malformed');
  }
  return { key, sequenceNumber: stored.sequenceNumber, data: stored.data, createdAt: stored.createdAt };
}
