import fs from 'node:fs';
import { open, type Database, type RootDatabase } from 'lmdb';
import { toStored, type StoredPattern } from './codec.js';
import { MemoryOptionsError } from './errors.js';
import type { EvictionKey } from './eviction.js';
import { toStoredEvent, type PendingEvent, type StoredEvent } from './journal.js';
import type { Pattern } from './pattern.js';

/** Bumped whenever the layout below changes incompatibly. */
const FORMAT_VERSION = 1;

/** What a memory is created with and may not be reopened without. */
export interface MemoryFormat {
  readonly formatVersion: number;
  readonly dimensions: number;
  readonly featureSpaceId: string;
  readonly recencyHalfLifeMs: number;
}

export interface SnapshotInfo {
  /** The last journal sequence number folded into the snapshot. */
  readonly seq: number;
  readonly count: number;
  readonly createdAt: number;
}

/**
 * The meta database: the format, the counters every write transaction
 * advances, and one entry per snapshot.
 */
export type MetaKey = 'format' | 'seq' | 'count' | 'compactedThrough' | ['snapshot', number];

/** One LMDB environment per memory directory, with one named database per concern. */
export interface Databases {
  readonly root: RootDatabase;
  /** Pattern id → stored pattern. */
  readonly patterns: Database<StoredPattern, string>;
  /** Sequence number → stored event. */
  readonly journal: Database<StoredEvent, number>;
  /** [snapshot sequence number, pattern id] → stored pattern. */
  readonly snapshots: Database<StoredPattern, [number, string]>;
  readonly meta: Database<unknown, MetaKey>;
  /** Eviction key → nothing; holds every pattern that is not consolidated. */
  readonly eviction: Database<Uint8Array, EvictionKey>;
}

const SHARED_STRUCTURES = Symbol.for('swarmbank.structures');

export function openDatabases(path: string): Databases {
  fs.mkdirSync(path, { recursive: true });
  // The directory name may contain a dot, which lmdb would otherwise take for a file name.
  const root = open({ path, maxDbs: 8, noSubdir: false });
  // A process killed mid-read leaves its reader slot behind; free it before it pins old pages.
  root.readerCheck();
  const structured = { sharedStructuresKey: SHARED_STRUCTURES };
  return {
    root,
    patterns: root.openDB<StoredPattern, string>({ name: 'patterns', ...structured }),
    journal: root.openDB<StoredEvent, number>({ name: 'journal', ...structured }),
    snapshots: root.openDB<StoredPattern, [number, string]>({ name: 'snapshots', ...structured }),
    meta: root.openDB<unknown, MetaKey>({ name: 'meta' }),
    eviction: root.openDB<Uint8Array, EvictionKey>({ name: 'eviction', encoding: 'binary' }),
  };
}

/**
 * Writes the format of a new memory, or checks an existing one against the
 * options. Returns the format in force.
 *
 * A new memory also encodes one prototype of every record shape, so each
 * database's shared msgpack structures are fixed before the first real
 * write. Two effects: every memory created by this version numbers its
 * structures identically, which keeps rebuilt records byte-identical; and no
 * later write ever has to save a structure, so rolling back a failed write
 * can never leave the encoder believing in a structure the database lost.
 */
export function initialiseFormat(
  dbs: Databases,
  requested: Omit<MemoryFormat, 'formatVersion' | 'recencyHalfLifeMs'> & { recencyHalfLifeMs: number | undefined },
  defaultHalfLifeMs: number,
): MemoryFormat {
  return dbs.root.transactionSync(() => {
    const existing = dbs.meta.get('format') as MemoryFormat | undefined;
    if (existing !== undefined) return checkFormat(existing, requested);
    const format: MemoryFormat = {
      formatVersion: FORMAT_VERSION,
      dimensions: requested.dimensions,
      featureSpaceId: requested.featureSpaceId,
      recencyHalfLifeMs: requested.recencyHalfLifeMs ?? defaultHalfLifeMs,
    };
    dbs.meta.put('format', format);
    dbs.meta.put('seq', 0);
    dbs.meta.put('count', 0);
    dbs.meta.put('compactedThrough', 0);
    primeStructures(dbs, prototypePattern(format));
    return format;
  });
}

function checkFormat(
  existing: MemoryFormat,
  requested: Omit<MemoryFormat, 'formatVersion' | 'recencyHalfLifeMs'> & { recencyHalfLifeMs: number | undefined },
): MemoryFormat {
  if (existing.formatVersion !== FORMAT_VERSION) {
    throw new MemoryOptionsError('path', `holds format ${existing.formatVersion}, this version reads format ${FORMAT_VERSION}`);
  }
  if (existing.dimensions !== requested.dimensions) {
    throw new MemoryOptionsError('dimensions', `the memory holds ${existing.dimensions}-dimensional patterns, not ${requested.dimensions}`);
  }
  if (existing.featureSpaceId !== requested.featureSpaceId) {
    throw new MemoryOptionsError(
      'featureSpaceId',
      `the memory holds feature space ${JSON.stringify(existing.featureSpaceId)}, not ${JSON.stringify(requested.featureSpaceId)}`,
    );
  }
  if (requested.recencyHalfLifeMs !== undefined && requested.recencyHalfLifeMs !== existing.recencyHalfLifeMs) {
    throw new MemoryOptionsError(
      'recencyHalfLifeMs',
      `the eviction index was built with ${existing.recencyHalfLifeMs} ms, not ${requested.recencyHalfLifeMs} ms`,
    );
  }
  return existing;
}

const PRIME_ID = '\u0000prime';
const PRIME_SEQ = 0;

function prototypePattern(format: MemoryFormat): Pattern {
  return {
    id: PRIME_ID,
    embedding: new Float32Array(format.dimensions),
    outcome: 'up',
    confidence: 0,
    support: 0,
    successes: 0,
    version: 1,
    origin: PRIME_ID,
    featureSpaceId: format.featureSpaceId,
    tags: [],
    consolidated: false,
    plasticity: 0,
    createdAt: 0,
    updatedAt: 0,
  };
}

function primeStructures(dbs: Databases, pattern: Pattern): void {
  dbs.patterns.put(PRIME_ID, toStored(pattern));
  dbs.patterns.remove(PRIME_ID);
  dbs.snapshots.put([PRIME_SEQ, PRIME_ID], toStored(pattern));
  dbs.snapshots.remove([PRIME_SEQ, PRIME_ID]);
  const prototypes: PendingEvent[] = [
    { type: 'upsert', at: 0, pattern },
    { type: 'import', at: 0, source: PRIME_ID, pattern },
    { type: 'merge', at: 0, sources: [], pattern },
    { type: 'consolidate', at: 0, id: PRIME_ID, consolidated: false, plasticity: 0 },
    { type: 'evict', at: 0, id: PRIME_ID },
  ];
  for (const event of prototypes) {
    dbs.journal.put(PRIME_SEQ, toStoredEvent(event));
    dbs.journal.remove(PRIME_SEQ);
  }
}
