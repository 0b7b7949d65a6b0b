import type { Database, Transaction } from 'lmdb';
import { decodePattern, samePattern } from './codec.js';
import { readExemplarIds, type Databases, type MemoryFormat } from './databases.js';
import { evictionKey, type EvictionKey } from './eviction.js';
import { applyEvent, decodeRecord, type PatternState } from './journal.js';
import type { Pattern } from './pattern.js';
import { latestSnapshotInfo, readSnapshot } from './snapshot.js';

export interface IntegrityReport {
  readonly ok: boolean;
  readonly patterns: number;
  /** Journal events checked: those after the newest snapshot. */
  readonly events: number;
  /** The snapshot the journal was replayed onto; 0 when replayed from the beginning. */
  readonly snapshotSeq: number;
  /** The first problems found, each naming what is wrong and where. */
  readonly problems: readonly string[];
}

const MAX_PROBLEMS = 100;
const CHUNK = 1024;
/** A journal record holds a whole transaction, so far fewer of them are read at once. */
const JOURNAL_CHUNK = 16;

/**
 * Checks, in one read transaction, that every journal event decodes, that
 * every pattern decodes and validates, that the patterns equal the newest
 * snapshot with the journal after it replayed onto it, and that the counters
 * and the eviction index, if the memory keeps one, agree with the patterns.
 */
export function checkIntegrity(dbs: Databases, format: MemoryFormat): IntegrityReport {
  const problems: string[] = [];
  const note = (problem: string): void => {
    if (problems.length < MAX_PROBLEMS) problems.push(problem);
  };
  const transaction = dbs.root.useReadTransaction();
  try {
    const lastSeq = dbs.meta.get('seq', { transaction }) as number;
    const compactedThrough = dbs.meta.get('compactedThrough', { transaction }) as number;
    const snapshot = latestSnapshotInfo(dbs, transaction);
    const snapshotSeq = snapshot?.seq ?? 0;
    if (snapshotSeq < compactedThrough) note(`the journal was compacted through ${compactedThrough} but the newest snapshot is at ${snapshotSeq}`);

    const expected = new Map<string, Pattern>();
    const exemplars = { ids: snapshot?.exemplars ?? ([] as readonly string[]) };
    attempt(note, () => {
      if (snapshot === undefined) return;
      const patterns = readSnapshot(dbs, format, snapshot.seq, transaction);
      if (patterns.length !== snapshot.count) note(`snapshot ${snapshot.seq} holds ${patterns.length} patterns, its record says ${snapshot.count}`);
      for (const pattern of patterns) expected.set(pattern.id, pattern);
    });

    const events = replayJournal(dbs, format, snapshotSeq, lastSeq, transaction, expected, exemplars, note);
    const actual = readPatterns(dbs, format, transaction, note);
    comparePatterns(expected, actual, note);
    const stored = readExemplarIds(dbs, transaction);
    if (stored.length !== exemplars.ids.length || stored.some((id, i) => id !== exemplars.ids[i])) {
      note(`the exemplar buffer holds ${JSON.stringify(stored)}, the journal produces ${JSON.stringify(exemplars.ids)}`);
    }

    const count = dbs.meta.get('count', { transaction }) as number;
    if (count !== actual.size) note(`the pattern count says ${count}, the memory holds ${actual.size}`);
    if (dbs.meta.get('evictionIndexed', { transaction }) === true) checkEvictionIndex(dbs, format, actual, transaction, note);

    return { ok: problems.length === 0, patterns: actual.size, events, snapshotSeq, problems };
  } finally {
    transaction.done();
  }
}

function replayJournal(
  dbs: Databases,
  format: MemoryFormat,
  afterSeq: number,
  lastSeq: number,
  transaction: Transaction,
  state: Map<string, Pattern>,
  exemplars: { ids: readonly string[] },
  note: (problem: string) => void,
): number {
  const mapState: PatternState = {
    get: (id) => state.get(id),
    put: (pattern) => void state.set(pattern.id, pattern),
    remove: (id) => void state.delete(id),
    setExemplars: (ids) => void (exemplars.ids = ids),
  };
  const keys = [...dbs.journal.getKeys({ start: afterSeq + 1, transaction })];
  let previous = afterSeq;
  let events = 0;
  readTolerantly(
    dbs.journal,
    'journal event',
    keys,
    transaction,
    note,
    (seq, value) => {
      const record = decodeRecord(seq, value, format);
      if (seq !== previous + 1) note(seq > previous + 1 ? `journal events ${previous + 1}..${seq - 1} are missing` : `journal event ${seq} is recorded twice`);
      previous = seq + record.length - 1;
      events += record.length;
      for (const event of record) applyEvent(mapState, event);
    },
    JOURNAL_CHUNK,
  );
  if (previous !== lastSeq) note(`the journal ends at ${previous}, the sequence counter says ${lastSeq}`);
  return events;
}

function readPatterns(dbs: Databases, format: MemoryFormat, transaction: Transaction, note: (problem: string) => void): Map<string, Pattern> {
  const patterns = new Map<string, Pattern>();
  readTolerantly(dbs.patterns, 'pattern', [...dbs.patterns.getKeys({ transaction })], transaction, note, (id, value) => {
    const pattern = decodePattern(value, format);
    if (pattern.id !== id) note(`pattern stored under ${JSON.stringify(id)} calls itself ${JSON.stringify(pattern.id)}`);
    patterns.set(id, pattern);
  });
  return patterns;
}

/**
 * Visits every record of `keys` in order, a chunk at a time. A chunk that
 * fails to decode is visited again record by record, so one corrupt record
 * is reported and the others are still checked.
 */
function readTolerantly<K extends string | number, V>(
  db: Database<V, K>,
  what: string,
  keys: readonly K[],
  transaction: Transaction,
  note: (problem: string) => void,
  visit: (key: K, value: V) => void,
  chunkSize = CHUNK,
): void {
  for (let i = 0; i < keys.length; i += chunkSize) {
    const chunk = keys.slice(i, i + chunkSize);
    let entries: { key: K; value: V }[] | undefined;
    try {
      entries = [...db.getRange({ start: chunk[0], end: chunk.at(-1), inclusiveEnd: true, transaction })];
    } catch {
      entries = undefined;
    }
    if (entries === undefined) {
      for (const key of chunk) attempt(note, () => visit(key, db.get(key, { transaction }) as V), `${what} ${JSON.stringify(key)}`);
    } else {
      for (const { key, value } of entries) attempt(note, () => visit(key, value), `${what} ${JSON.stringify(key)}`);
    }
  }
}

function comparePatterns(expected: Map<string, Pattern>, actual: Map<string, Pattern>, note: (problem: string) => void): void {
  for (const [id, pattern] of actual) {
    const replayed = expected.get(id);
    if (replayed === undefined) note(`pattern ${JSON.stringify(id)} is stored but the journal does not produce it`);
    else if (!samePattern(pattern, replayed)) note(`pattern ${JSON.stringify(id)} differs from its replayed version ${replayed.version}`);
  }
  for (const id of expected.keys()) {
    if (!actual.has(id)) note(`pattern ${JSON.stringify(id)} is produced by the journal but not stored`);
  }
}

function checkEvictionIndex(
  dbs: Databases,
  format: MemoryFormat,
  patterns: Map<string, Pattern>,
  transaction: Transaction,
  note: (problem: string) => void,
): void {
  const wanted = new Set<string>();
  for (const pattern of patterns.values()) {
    if (!pattern.consolidated) wanted.add(JSON.stringify(evictionKey(pattern, format.recencyHalfLifeMs)));
  }
  let indexed = 0;
  for (const key of [...dbs.eviction.getKeys({ transaction })]) {
    indexed++;
    if (!wanted.has(JSON.stringify(key as EvictionKey))) note(`the eviction index holds ${JSON.stringify(key)}, which matches no evictable pattern`);
  }
  if (indexed !== wanted.size) note(`the eviction index holds ${indexed} entries for ${wanted.size} evictable patterns`);
}

function attempt(note: (problem: string) => void, check: () => void, where?: string): void {
  try {
    check();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    note(where === undefined ? message : `${where}: ${message}`);
  }
}
