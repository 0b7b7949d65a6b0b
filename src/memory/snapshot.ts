import type { Transaction } from 'lmdb';
import { decodePattern } from './codec.js';
import { readExemplarIds, type Databases, type SnapshotInfo } from './databases.js';
import type { Pattern, PatternExpectations } from './pattern.js';
import { readRange, scanRange, streamRange } from './ranges.js';

/**
 * A snapshot is a copy of every pattern at one journal sequence number. The
 * patterns database already is the current state; snapshots exist so the
 * journal before them can be compacted away while a memory can still be
 * rebuilt (snapshot, then the journal tail) and checked against its history.
 */

export function latestSnapshotInfo(dbs: Databases, transaction?: Transaction): SnapshotInfo | undefined {
  const [newest] = dbs.meta.getRange({
    start: ['snapshot', Number.MAX_SAFE_INTEGER],
    end: ['snapshot', -1],
    reverse: true,
    limit: 1,
    ...(transaction === undefined ? {} : { transaction }),
  });
  return newest?.value as SnapshotInfo | undefined;
}

/**
 * Copies every pattern record into a snapshot at `seq`, byte for byte once
 * it has decoded, so a corrupt record stops the snapshot instead of being
 * preserved in it. Runs inside the caller's write transaction, so the copy
 * is consistent.
 */
export function writeSnapshot(dbs: Databases, expect: PatternExpectations, seq: number, createdAt: number): SnapshotInfo {
  let count = 0;
  const records = scanRange(
    dbs.patterns,
    'patterns',
    {},
    (id, bytes) => {
      decodePattern(bytes, expect);
      return { id, bytes };
    },
    (record) => record.id,
  );
  for (const { id, bytes } of records) {
    dbs.snapshots.put([seq, id], bytes);
    count++;
  }
  const info: SnapshotInfo = { seq, count, createdAt, exemplars: readExemplarIds(dbs) };
  dbs.meta.put(['snapshot', seq], info);
  return info;
}

export function snapshotPatterns(dbs: Databases, expect: PatternExpectations, seq: number): AsyncGenerator<Pattern> {
  return streamRange(
    dbs.snapshots,
    'snapshots',
    { start: [seq, ''], end: [seq + 1, ''] },
    (_key, value) => decodePattern(value, expect),
    (pattern) => [seq, pattern.id],
  );
}

/** Every pattern of one snapshot, read in the given transaction. */
export function readSnapshot(dbs: Databases, expect: PatternExpectations, seq: number, transaction: Transaction): Pattern[] {
  return readRange(dbs.snapshots, 'snapshots', { start: [seq, ''], end: [seq + 1, ''], transaction }, (_key, value) =>
    decodePattern(value, expect),
  );
}

/** Removes every snapshot older than `seq`; runs inside the caller's write transaction. */
export function dropSnapshotsBefore(dbs: Databases, seq: number): number {
  let dropped = 0;
  for (const { key } of [...dbs.meta.getRange({ start: ['snapshot', -1], end: ['snapshot', seq] })]) {
    const [, older] = key as ['snapshot', number];
    for (const snapshotKey of [...dbs.snapshots.getKeys({ start: [older, ''], end: [older + 1, ''] })]) {
      dbs.snapshots.remove(snapshotKey);
    }
    dbs.meta.remove(key);
    dropped++;
  }
  return dropped;
}
