import type { Database, Key, Transaction } from 'lmdb';
import { CorruptRecordError } from './errors.js';

export interface RangeQuery<K extends Key> {
  readonly start?: K;
  readonly end?: K;
  readonly limit?: number;
  readonly exclusiveStart?: boolean;
  readonly inclusiveEnd?: boolean;
  readonly transaction?: Transaction;
}

/**
 * Reads and decodes a key range. The fast path lets lmdb decode the whole
 * range; if any record fails, the range is read again key by key so the
 * error names the corrupt key. Every failure becomes a `CorruptRecordError`.
 */
export function readRange<K extends Key, V, T>(
  db: Database<V, K>,
  database: string,
  query: RangeQuery<K>,
  decode: (key: K, value: V) => T,
): T[] {
  let entries: { key: K; value: V }[];
  try {
    entries = [...db.getRange(query)];
  } catch {
    const items: T[] = [];
    for (const key of db.getKeys(query)) {
      const item = readKey(db, database, key, query.transaction, decode);
      if (item !== undefined) items.push(item);
    }
    return items;
  }
  return entries.map(({ key, value }) => decodeOne(database, key, value, decode));
}

/** Reads one record; `undefined` when the key is absent. */
export function readKey<K extends Key, V, T>(
  db: Database<V, K>,
  database: string,
  key: K,
  transaction: Transaction | undefined,
  decode: (key: K, value: V) => T,
): T | undefined {
  let value: V | undefined;
  try {
    value = transaction === undefined ? db.get(key) : db.get(key, { transaction });
  } catch (error) {
    throw new CorruptRecordError(database, key, error);
  }
  return value === undefined ? undefined : decodeOne(database, key, value, decode);
}

/**
 * `readKey` for a binary database, decoding straight from lmdb's shared
 * read buffer: no copy of the record, which `decode` must not keep.
 */
export function readBinaryKey<K extends Key, T>(
  db: Database<Uint8Array, K>,
  database: string,
  key: K,
  decode: (bytes: Uint8Array) => T,
): T | undefined {
  let bytes: Uint8Array | undefined;
  try {
    bytes = db.getBinaryFast(key);
  } catch (error) {
    throw new CorruptRecordError(database, key, error);
  }
  return bytes === undefined ? undefined : decodeOne(database, key, bytes, (_key, value) => decode(value));
}

/**
 * Reads a range a chunk at a time; no cursor stays open between chunks.
 * Pass a transaction to read every chunk from one consistent view.
 */
export function* scanRange<K extends Key, V, T>(
  db: Database<V, K>,
  database: string,
  query: Omit<RangeQuery<K>, 'limit' | 'exclusiveStart'>,
  decode: (key: K, value: V) => T,
  keyOf: (item: T) => K,
  chunkSize = 1024,
): Generator<T> {
  let start = query.start;
  let exclusiveStart = false;
  for (;;) {
    const chunk = readRange(
      db,
      database,
      { ...query, ...(start === undefined ? {} : { start }), exclusiveStart, limit: chunkSize },
      decode,
    );
    yield* chunk;
    const last = chunk.at(-1);
    if (last === undefined || chunk.length < chunkSize) return;
    start = keyOf(last);
    exclusiveStart = true;
  }
}

/** `scanRange` for consumers that await between items, so a long replay holds no read transaction open. */
export async function* streamRange<K extends Key, V, T>(
  db: Database<V, K>,
  database: string,
  query: Omit<RangeQuery<K>, 'limit' | 'exclusiveStart' | 'transaction'>,
  decode: (key: K, value: V) => T,
  keyOf: (item: T) => K,
  chunkSize?: number,
): AsyncGenerator<T> {
  yield* scanRange(db, database, query, decode, keyOf, chunkSize);
}

function decodeOne<K extends Key, V, T>(database: string, key: K, value: V, decode: (key: K, value: V) => T): T {
  try {
    return decode(key, value);
  } catch (error) {
    throw new CorruptRecordError(database, key, error);
  }
}
