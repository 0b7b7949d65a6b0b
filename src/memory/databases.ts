import fs from 'node:fs';
import { open, type Database, type RootDatabase, type Transaction } from 'lmdb';
import { checkDataFile } from './data-file.js';
import { MemoryOptionsError } from './errors.js';
import type { EvictionKey } from './eviction.js';

/** Bumped whenever the layout below changes incompatibly. */
const FORMAT_VERSION = 2;

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
  /** The exemplar buffer at `seq` (see `PatternMemory.exemplars`); absent in snapshots taken before it was persisted. */
  readonly exemplars?: readonly string[];
}

/**
 * The meta database: the format, the counters every write transaction
 * advances, whether the eviction index is kept, the exemplar buffer (ids,
 * absent until first set), and one entry per snapshot.
 */
export type MetaKey = 'format' | 'seq' | 'count' | 'compactedThrough' | 'evictionIndexed' | 'exemplars' | ['snapshot', number];

/** The exemplar buffer as the meta database holds it. */
export function readExemplarIds(dbs: Databases, transaction?: Transaction): readonly string[] {
  const ids = (transaction === undefined ? dbs.meta.get('exemplars') : dbs.meta.get('exemplars', { transaction })) as readonly string[] | undefined;
  return ids ?? [];
}

/**
 * One LMDB environment per memory directory, with one named database per
 * concern. Patterns, journal records and snapshots are stored as the bytes
 * codec.ts and journal.ts encode, so a pattern is encoded once per write.
 */
export interface Databases {
  readonly root: RootDatabase;
  /** Pattern id → encoded pattern. */
  readonly patterns: Database<Uint8Array, string>;
  /** Sequence number of a transaction's first event → the record of all its events. */
  readonly journal: Database<Uint8Array, number>;
  /** [snapshot sequence number, pattern id] → encoded pattern. */
  readonly snapshots: Database<Uint8Array, [number, string]>;
  readonly meta: Database<unknown, MetaKey>;
  /**
   * Eviction key → nothing; holds every pattern that is not consolidated.
   * Built the first time a memory is opened with a capacity (meta
   * `evictionIndexed`), and kept by every writer from then on.
   */
  readonly eviction: Database<Uint8Array, EvictionKey>;
}

export function openDatabases(path: string): Databases {
  fs.mkdirSync(path, { recursive: true });
  checkDataFile(path);
  // The directory name may contain a dot, which lmdb would otherwise take for a file name.
  const root = open({ path, maxDbs: 8, noSubdir: false });
  // A process killed mid-read leaves its reader slot behind; free it before it pins old pages.
  root.readerCheck();
  const binary = { encoding: 'binary' } as const;
  return {
    root,
    patterns: root.openDB<Uint8Array, string>({ name: 'patterns', ...binary }),
    journal: root.openDB<Uint8Array, number>({ name: 'journal', ...binary }),
    snapshots: root.openDB<Uint8Array, [number, string]>({ name: 'snapshots', ...binary }),
    meta: root.openDB<unknown, MetaKey>({ name: 'meta' }),
    eviction: root.openDB<Uint8Array, EvictionKey>({ name: 'eviction', ...binary }),
  };
}

/** Writes the format of a new memory, or checks an existing one against the options. Returns the format in force. */
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
    dbs.meta.put('evictionIndexed', false);
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
