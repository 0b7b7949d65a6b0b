import type { Database, Key } from 'lmdb';
import { copyInto, copyOut, PatternCache, type StagedChanges } from './cache.js';
import { decodePattern, encodePattern } from './codec.js';
import { initialiseFormat, openDatabases, readExemplarIds, type Databases, type MemoryFormat, type SnapshotInfo } from './databases.js';
import { callerEmbeddings } from './embedding-pool.js';
import { JournalError, MemoryFullError, MemoryOptionsError, PatternNotFoundError } from './errors.js';
import { buildEvictionIndex, DEFAULT_RECENCY_HALF_LIFE_MS, evictionKey } from './eviction.js';
import { checkIntegrity, type IntegrityReport } from './integrity.js';
import { applyEvent, decodeRecord, encodeEnvelope, type JournalEvent, type PatternState, type PendingEvent } from './journal.js';
import { JournalRecordBuilder } from './journal-record.js';
import { PatternValidationError, validatePattern, validateStoredPattern, type Pattern, type PatternInput } from './pattern.js';
import { readBinaryKey, scanRange, streamRange } from './ranges.js';
import { dropSnapshotsBefore, latestSnapshotInfo, snapshotPatterns, writeSnapshot } from './snapshot.js';

export type { SnapshotInfo } from './databases.js';

export interface PatternMemoryOptions {
  /** A directory; created if missing. Every process that shares the memory opens the same path. */
  readonly path: string;
  readonly dimensions: number;
  readonly featureSpaceId: string;
  /** The most patterns kept (`memorySize` in the configs); unbounded when absent. */
  readonly capacity?: number;
  /** Half-life of the recency term of eviction utility (see eviction.ts); fixed when the memory is created. Default 7 days. */
  readonly recencyHalfLifeMs?: number;
  /** Stamps `createdAt`, `updatedAt` and event times. Default `Date.now`. */
  readonly clock?: () => number;
  /**
   * How many decoded patterns `get` keeps in memory (see cache.ts); 0 turns
   * the cache off. Default 100,000: about 45 MB at 64 dimensions, 180 MB at 384.
   */
  readonly cacheSize?: number;
}

/** What an upsert decided for a pattern: the fields the memory owns, as written. */
export interface PatternReceipt {
  readonly id: string;
  readonly version: number;
  readonly createdAt: number;
  readonly updatedAt: number;
  readonly consolidated: boolean;
  readonly plasticity: number;
}

export interface ConsolidateOptions {
  /** The plasticity consolidated patterns get. Default 0.1. */
  readonly plasticity?: number;
}

export interface ReleaseOptions {
  /** The plasticity released patterns get back. Default 1. */
  readonly plasticity?: number;
}

export interface ImportOptions {
  /** Where the patterns came from (an agent or a bundle), recorded in the journal. */
  readonly source: string;
}

export interface ReplayRange {
  /** First sequence number, inclusive. Default: the oldest one kept. */
  readonly from?: number;
  /** Last sequence number, inclusive. Default: the newest one. */
  readonly to?: number;
}

/** Space taken in the LMDB file, in bytes of pages. */
export interface MemoryBytes {
  readonly patterns: number;
  readonly journal: number;
  readonly snapshots: number;
  /** The whole file up to its last used page, free pages included. */
  readonly file: number;
}

export interface CompactionResult {
  readonly compactedThrough: number;
  readonly droppedEvents: number;
  readonly droppedSnapshots: number;
}

/** What a memory can be rebuilt from: optionally a snapshot, then every journal event after it. */
export interface RestoreSource {
  readonly snapshot?: {
    readonly info: SnapshotInfo;
    readonly patterns: AsyncIterable<Pattern> | Iterable<Pattern>;
  };
  readonly events: AsyncIterable<JournalEvent> | Iterable<JournalEvent>;
}

export interface PatternMemory {
  readonly path: string;
  readonly dimensions: number;
  readonly featureSpaceId: string;
  readonly capacity: number;
  readonly recencyHalfLifeMs: number;

  /**
   * A copy of the stored pattern; the caller may keep and change it. Its
   * embedding is the caller's own but not alone in its buffer: a view into
   * a small slab shared with other returned embeddings, none overlapping
   * (see embedding-pool.ts). Reinterpret it through `byteOffset` and
   * `byteLength`, never `embedding.buffer` alone, and never transfer the
   * buffer; a kept embedding keeps its slab in memory.
   */
  get(id: string): Pattern | undefined;
  /**
   * `get` without allocating an embedding: copies the stored one into
   * `target` (a Float32Array of the memory's dimensions, else
   * `MemoryOptionsError`) and returns a pattern whose `embedding` is
   * `target` itself. Reusing one target across reads saves a buffer
   * allocation per read, the largest cost of a cached `get` at high
   * dimensions; the pattern returned by the previous call then sees its
   * embedding overwritten, so copy what must outlive the next read.
   * Untouched when the pattern is absent.
   */
  getInto(id: string, target: Float32Array): Pattern | undefined;
  has(id: string): boolean;
  /** Every pattern in id order, from one consistent read of the database; embeddings as `get` returns them. */
  iterate(): Generator<Pattern>;
  /** Every pattern's id in id order, only those after `after` if given, from one consistent read; nothing is decoded. */
  ids(after?: string): Generator<string>;
  count(): number;
  bytesUsed(): MemoryBytes;
  /** The sequence number of the newest journal event; 0 for a new memory. */
  lastSeq(): number;

  /**
   * Writes one pattern: version 1 if new, else the stored version + 1.
   * Consolidation is kept. A pattern with an all-zero embedding, a version
   * past `MAX_VERSION` or a time past `MAX_TIME` is refused
   * (`PatternValidationError`), as by every write here.
   */
  upsert(input: PatternInput): Promise<Pattern>;
  /**
   * Writes all patterns in one transaction: all of them, or none if one is
   * invalid. Returns what the memory decided for each, in order, not the
   * patterns: the caller has their content already, and handing each back
   * would cost a copy of its embedding beside the one the cache keeps.
   */
  upsertMany(inputs: readonly PatternInput[]): Promise<PatternReceipt[]>;
  /** Removes a pattern; false if it was not there. */
  delete(id: string): Promise<boolean>;
  /**
   * Replaces `sources` with `merged` in one transaction. The result gets the
   * highest version among the sources (and any pattern already stored under
   * `merged.id`) plus one, the earliest `createdAt`, stays consolidated if
   * any source was, and takes the lowest source plasticity unless `merged`
   * sets one. Computing the merged embedding and counts is the caller's job.
   */
  merge(sources: readonly string[], merged: PatternInput): Promise<Pattern>;
  /** Protects patterns from eviction and lowers their plasticity. */
  consolidate(ids: readonly string[], options?: ConsolidateOptions): Promise<Pattern[]>;
  /** Undoes `consolidate`. */
  release(ids: readonly string[], options?: ReleaseOptions): Promise<Pattern[]>;
  /**
   * Replaces the exemplar buffer, the patterns kept for rehearsal (see
   * consolidation.ts), with `ids` in order, duplicates dropped. Every id
   * must be stored (`PatternNotFoundError`). Journaled, and kept in
   * snapshots, so it survives a reopen and a rebuild from the journal; a
   * call that changes nothing writes nothing. Returns the buffer's ids.
   */
  setExemplars(ids: readonly string[]): Promise<readonly string[]>;
  /** The exemplar buffer's patterns, in its order; a pattern removed since it was set is left out. */
  exemplars(): Pattern[];
  /**
   * Writes another memory's patterns, all validated before anything is
   * written. An imported pattern keeps its id, content, origin and
   * `createdAt`; its version becomes the higher of its own and the local
   * one, plus one. It brings knowledge, not the sender's protection: it is
   * consolidated only if the local pattern it replaces was.
   */
  importPatterns(patterns: readonly Pattern[], options: ImportOptions): Promise<Pattern[]>;

  /** Journal events in sequence order. Throws `JournalError` (JOURNAL_COMPACTED) if part of the range was compacted away. */
  replay(range?: ReplayRange): AsyncGenerator<JournalEvent>;
  takeSnapshot(): Promise<SnapshotInfo>;
  latestSnapshot(): SnapshotInfo | undefined;
  /** The newest snapshot and the journal after it: the fastest way to rebuild this memory elsewhere. */
  recoverySource(): RestoreSource;
  /**
   * Rebuilds from another memory's history, keeping its sequence numbers, so
   * the result holds byte-identical pattern records. A snapshot may only be
   * restored into an empty memory; events must continue this memory's
   * journal without a gap. Capacity is not enforced: the source's evictions
   * are in its journal. Patterns are checked as stored ones are
   * (`validateStoredPattern`), so a history that predates the write-time
   * rules on zero embeddings, versions and times still restores.
   */
  restore(source: RestoreSource): Promise<void>;
  /** Drops journal events and snapshots older than the newest snapshot. */
  compact(): Promise<CompactionResult>;
  checkIntegrity(): IntegrityReport;
  close(): Promise<void>;
}

const RESTORE_CHUNK = 512;
const DEFAULT_CACHE_SIZE = 100_000;
/** Journal records read per chunk: a record holds a whole transaction, up to thousands of events. */
const JOURNAL_CHUNK = 16;
const EMPTY = new Uint8Array(0);

export async function openPatternMemory(options: PatternMemoryOptions): Promise<PatternMemory> {
  const { dimensions, featureSpaceId } = options;
  if (typeof options.path !== 'string' || options.path.length === 0) throw new MemoryOptionsError('path', 'must be a directory path');
  if (!Number.isSafeInteger(dimensions) || dimensions < 1) throw new MemoryOptionsError('dimensions', `must be a positive integer, got ${dimensions}`);
  if (typeof featureSpaceId !== 'string' || featureSpaceId.length === 0) throw new MemoryOptionsError('featureSpaceId', 'must be a non-empty string');
  const capacity = options.capacity ?? Number.POSITIVE_INFINITY;
  if (!(capacity === Number.POSITIVE_INFINITY || (Number.isSafeInteger(capacity) && capacity >= 1))) {
    throw new MemoryOptionsError('capacity', `must be a positive integer, got ${capacity}`);
  }
  const halfLife = options.recencyHalfLifeMs;
  if (halfLife !== undefined && !(Number.isFinite(halfLife) && halfLife > 0)) {
    throw new MemoryOptionsError('recencyHalfLifeMs', `must be a positive number of milliseconds, got ${halfLife}`);
  }
  const cacheSize = options.cacheSize ?? DEFAULT_CACHE_SIZE;
  if (!(Number.isSafeInteger(cacheSize) && cacheSize >= 0)) throw new MemoryOptionsError('cacheSize', `must be a non-negative integer, got ${cacheSize}`);
  const dbs = openDatabases(options.path);
  let format: MemoryFormat;
  try {
    format = initialiseFormat(dbs, { dimensions, featureSpaceId, recencyHalfLifeMs: halfLife }, DEFAULT_RECENCY_HALF_LIFE_MS);
    if (capacity !== Number.POSITIVE_INFINITY) await buildEvictionIndex(dbs, format);
  } catch (error) {
    await dbs.root.close();
    throw error;
  }
  const cache = new PatternCache(cacheSize, dbs.meta.get('seq') as number, format);
  return new LmdbPatternMemory(options.path, dbs, format, capacity, options.clock ?? Date.now, cache, openPatternReader(dbs, format));
}

/**
 * A second handle on the patterns database whose decoder reads each record
 * straight out of lmdb's shared read buffer, where the binary handle copies
 * it into a Buffer of its own first: one allocation less per pattern when
 * scanning, which is how a vector index loads a reopened memory. A copying
 * decoder is what lmdb asks for before it hands out that buffer.
 */
function openPatternReader(dbs: Databases, format: MemoryFormat): Database<Pattern, string> {
  // lmdb sets the shared buffer's length to the record's size before decoding, as its own msgpack decoder expects.
  const decoder = { decode: (bytes: Uint8Array) => decodePattern(bytes, format) };
  return dbs.root.openDB<Pattern, string>({ name: 'patterns', ...{ encoder: decoder } });
}

class LmdbPatternMemory implements PatternMemory {
  readonly dimensions: number;
  readonly featureSpaceId: string;
  readonly recencyHalfLifeMs: number;

  constructor(
    readonly path: string,
    private readonly dbs: Databases,
    private readonly format: MemoryFormat,
    readonly capacity: number,
    private readonly clock: () => number,
    private readonly cache: PatternCache,
    private readonly reader: Database<Pattern, string>,
  ) {
    this.dimensions = format.dimensions;
    this.featureSpaceId = format.featureSpaceId;
    this.recencyHalfLifeMs = format.recencyHalfLifeMs;
  }

  get(id: string): Pattern | undefined {
    const found = this.committed(id);
    return found === undefined ? undefined : copyOut(found);
  }

  getInto(id: string, target: Float32Array): Pattern | undefined {
    if (!(target instanceof Float32Array) || target.length !== this.dimensions) {
      const got = target instanceof Float32Array ? `${target.length} values` : typeof target;
      throw new MemoryOptionsError('target', `must be a Float32Array of ${this.dimensions} values, got ${got}`);
    }
    const found = this.committed(id);
    return found === undefined ? undefined : copyInto(found, target);
  }

  /** The cache's pattern or one decoded from LMDB: never hand it out as is (see cache.ts). */
  private committed(id: string): Pattern | undefined {
    this.cache.checkForReads(this.readSeq);
    const cached = this.cache.committed(id);
    if (cached !== undefined) return cached;
    // Both reads come from lmdb's current read snapshot, which cannot move between two synchronous calls.
    const seq = this.readSeq();
    const stored = readBinaryKey(this.dbs.patterns, 'patterns', id, this.cache.decode);
    if (stored === undefined) return undefined;
    this.cache.rememberRead(seq, stored);
    return stored;
  }

  has(id: string): boolean {
    this.cache.checkForReads(this.readSeq);
    return this.cache.committed(id) !== undefined || this.dbs.patterns.doesExist(id);
  }

  *iterate(): Generator<Pattern> {
    const transaction = this.dbs.root.useReadTransaction();
    try {
      yield* scanRange(this.reader, 'patterns', { transaction }, (_key, pattern) => pattern, (p) => p.id);
    } finally {
      transaction.done();
    }
  }

  *ids(after?: string): Generator<string> {
    const transaction = this.dbs.root.useReadTransaction();
    try {
      for (const id of this.dbs.patterns.getKeys(after === undefined ? { transaction } : { start: after, transaction })) if (id !== after) yield id;
    } finally {
      transaction.done();
    }
  }

  count(): number {
    return this.dbs.meta.get('count') as number;
  }

  bytesUsed(): MemoryBytes {
    const root = this.dbs.root.getStats() as LmdbStats & { lastPageNumber: number };
    return {
      patterns: pagesOf(this.dbs.patterns.getStats() as LmdbStats),
      journal: pagesOf(this.dbs.journal.getStats() as LmdbStats),
      snapshots: pagesOf(this.dbs.snapshots.getStats() as LmdbStats),
      file: (root.lastPageNumber + 1) * root.pageSize,
    };
  }

  lastSeq(): number {
    return this.readSeq();
  }

  upsert(input: PatternInput): Promise<Pattern> {
    // The cache adopts the pattern written, so the caller gets a copy of it.
    return this.write((scope) => copyOut(this.upsertInput(scope, input)));
  }

  upsertMany(inputs: readonly PatternInput[]): Promise<PatternReceipt[]> {
    return this.write((scope) => inputs.map((input) => receiptOf(this.upsertInput(scope, input))));
  }

  /**
   * Records one upsert and returns the pattern written, which the cache
   * adopts once the transaction commits: hand out only copies of it.
   */
  private upsertInput(scope: WriteScope, input: PatternInput): Pattern {
    scope.adopt = true;
    // Anything but a Float32Array is passed on for validation to refuse.
    const embedding = input.embedding instanceof Float32Array ? this.cache.ownEmbedding(input.embedding) : input.embedding;
    let known = scope.knownUnlessAppending(input.id);
    if (known === undefined) {
      const owned = { version: 1, createdAt: scope.at, updatedAt: scope.at, consolidated: false, plasticity: input.plasticity ?? 1 };
      const fresh = this.fromInput(input, owned, embedding);
      if (scope.recordNew({ type: 'upsert', at: scope.at, pattern: fresh })) return fresh;
      known = scope.get(input.id) ?? null;
    }
    const prior = known ?? undefined;
    const updatedAt = Math.max(scope.at, prior?.updatedAt ?? 0);
    const pattern = this.fromInput(input, {
      version: (prior?.version ?? 0) + 1,
      createdAt: prior?.createdAt ?? updatedAt,
      updatedAt,
      consolidated: prior?.consolidated ?? false,
      plasticity: input.plasticity ?? prior?.plasticity ?? 1,
    }, embedding);
    scope.recordEvent({ type: 'upsert', at: scope.at, pattern });
    return pattern;
  }

  delete(id: string): Promise<boolean> {
    return this.write((scope) => {
      if (scope.get(id) === undefined) return false;
      scope.recordEvent({ type: 'delete', at: scope.at, id });
      return true;
    });
  }

  merge(sources: readonly string[], merged: PatternInput): Promise<Pattern> {
    const unique = [...new Set(sources)];
    return this.write((scope) => {
      if (unique.length === 0) throw new PatternValidationError('sources', 'must name at least one pattern to merge', merged.id);
      const priors = unique.map((id) => scope.get(id) ?? missing(id));
      const overwritten = unique.includes(merged.id) ? undefined : scope.get(merged.id);
      const replaced = overwritten === undefined ? priors : [...priors, overwritten];
      const pattern = this.fromInput(merged, {
        version: Math.max(...replaced.map((p) => p.version)) + 1,
        createdAt: Math.min(...replaced.map((p) => p.createdAt)),
        updatedAt: Math.max(scope.at, ...replaced.map((p) => p.updatedAt)),
        consolidated: replaced.some((p) => p.consolidated),
        plasticity: merged.plasticity ?? Math.min(...replaced.map((p) => p.plasticity)),
      });
      scope.recordEvent({ type: 'merge', at: scope.at, sources: unique, pattern });
      return pattern;
    });
  }

  consolidate(ids: readonly string[], options: ConsolidateOptions = {}): Promise<Pattern[]> {
    return this.setConsolidation(ids, true, options.plasticity ?? 0.1);
  }

  release(ids: readonly string[], options: ReleaseOptions = {}): Promise<Pattern[]> {
    return this.setConsolidation(ids, false, options.plasticity ?? 1);
  }

  setExemplars(ids: readonly string[]): Promise<readonly string[]> {
    return this.write((scope) => {
      const unique = [...new Set(ids)];
      const current = readExemplarIds(this.dbs);
      if (unique.length === current.length && unique.every((id, i) => id === current[i])) return current;
      scope.recordEvent({ type: 'exemplars', at: scope.at, ids: unique });
      return unique;
    });
  }

  exemplars(): Pattern[] {
    const patterns: Pattern[] = [];
    for (const id of readExemplarIds(this.dbs)) {
      const pattern = this.get(id);
      if (pattern !== undefined) patterns.push(pattern);
    }
    return patterns;
  }

  importPatterns(patterns: readonly Pattern[], options: ImportOptions): Promise<Pattern[]> {
    return this.write((scope) => {
      patterns.forEach((pattern) => validatePattern(pattern, this.format));
      return patterns.map((incoming) => {
        const local = scope.get(incoming.id);
        const pattern = this.fromInput(incoming, {
          version: Math.max(incoming.version, local?.version ?? 0) + 1,
          createdAt: incoming.createdAt,
          updatedAt: Math.max(scope.at, incoming.updatedAt),
          consolidated: local?.consolidated ?? false,
          plasticity: incoming.plasticity,
        });
        scope.recordEvent({ type: 'import', at: scope.at, source: options.source, pattern });
        return pattern;
      });
    });
  }

  async *replay(range: ReplayRange = {}): AsyncGenerator<JournalEvent> {
    const compactedThrough = this.dbs.meta.get('compactedThrough') as number;
    let expected = Math.max(range.from ?? compactedThrough + 1, 1);
    if (expected <= compactedThrough) {
      throw new JournalError('JOURNAL_COMPACTED', `events through ${compactedThrough} were compacted; replay from ${expected} is impossible`);
    }
    const to = range.to ?? Number.POSITIVE_INFINITY;
    if (expected > to) return;
    // The record holding event `expected` is the last one keyed at or before it.
    const [holding] = this.dbs.journal.getKeys({ start: expected, reverse: true, limit: 1 });
    const records = streamRange(
      this.dbs.journal,
      'journal',
      { start: holding ?? expected, ...(to === Number.POSITIVE_INFINITY ? {} : { end: to, inclusiveEnd: true }) },
      (seq, value) => decodeRecord(seq, value, this.format),
      (events) => (events[0] as JournalEvent).seq,
      JOURNAL_CHUNK,
    );
    for await (const events of records) {
      for (const event of events) {
        if (event.seq < expected) continue;
        if (event.seq > to) return;
        // The journal has no holes; one appearing mid-stream means a concurrent compaction removed events we were due to read.
        if (event.seq !== expected) {
          throw new JournalError('JOURNAL_COMPACTED', `events ${expected}..${event.seq - 1} were compacted during the replay`);
        }
        expected++;
        yield event;
      }
    }
  }

  takeSnapshot(): Promise<SnapshotInfo> {
    return this.dbs.root.childTransaction(() => {
      const seq = this.dbs.meta.get('seq') as number;
      return (this.dbs.meta.get(['snapshot', seq]) as SnapshotInfo | undefined) ?? writeSnapshot(this.dbs, this.format, seq, this.clock());
    });
  }

  latestSnapshot(): SnapshotInfo | undefined {
    return latestSnapshotInfo(this.dbs);
  }

  recoverySource(): RestoreSource {
    const info = this.latestSnapshot();
    if (info === undefined) return { events: this.replay() };
    return { snapshot: { info, patterns: snapshotPatterns(this.dbs, this.format, info.seq) }, events: this.replay({ from: info.seq + 1 }) };
  }

  async restore(source: RestoreSource): Promise<void> {
    if (source.snapshot !== undefined) await this.restoreSnapshot(source.snapshot.info, source.snapshot.patterns);
    let chunk: JournalEvent[] = [];
    const flush = async (): Promise<void> => {
      const events = chunk;
      chunk = [];
      await this.transact((scope) => {
        for (const event of events) scope.restoreEvent(event, this.format);
      }, false);
    };
    for await (const event of source.events) {
      chunk.push(event);
      if (chunk.length === RESTORE_CHUNK) await flush();
    }
    if (chunk.length > 0) await flush();
  }

  compact(): Promise<CompactionResult> {
    return this.dbs.root.childTransaction(() => {
      const previous = this.dbs.meta.get('compactedThrough') as number;
      const newest = latestSnapshotInfo(this.dbs);
      if (newest === undefined || newest.seq <= previous) {
        return { compactedThrough: previous, droppedEvents: 0, droppedSnapshots: 0 };
      }
      // A snapshot is taken between transactions, so no journal record spans one: every record keyed up to it ends by it.
      for (const seq of [...this.dbs.journal.getKeys({ start: 0, end: newest.seq, inclusiveEnd: true })]) this.dbs.journal.remove(seq);
      const droppedSnapshots = dropSnapshotsBefore(this.dbs, newest.seq);
      this.dbs.meta.put('compactedThrough', newest.seq);
      return { compactedThrough: newest.seq, droppedEvents: newest.seq - previous, droppedSnapshots };
    });
  }

  checkIntegrity(): IntegrityReport {
    return checkIntegrity(this.dbs, this.format);
  }

  async close(): Promise<void> {
    await this.dbs.root.committed;
    this.cache.clear();
    await this.dbs.root.close();
  }

  private readonly readSeq = (): number => this.dbs.meta.get('seq') as number;

  private write<T>(operation: (scope: WriteScope) => T): Promise<T> {
    return this.transact(operation, true);
  }

  /**
   * Runs one operation in its own child transaction: lmdb batches it with
   * other writes into one LMDB transaction for throughput, while a throw
   * rolls back this operation alone. Capacity is enforced before it commits
   * unless the operation replays another memory's history. What the
   * operation changed reaches the cache once the commit is reported.
   */
  private transact<T>(operation: (scope: WriteScope) => T, enforceCapacity: boolean): Promise<T> {
    let staged: StagedChanges | undefined;
    const committed = this.dbs.root.childTransaction(() => {
      if (!this.evictionIndexed) this.evictionIndexed = this.dbs.meta.get('evictionIndexed') === true;
      const scope = new WriteScope(this.dbs, this.format, this.cache, this.journal, this.clock(), this.evictionIndexed);
      const result = operation(scope);
      if (enforceCapacity) scope.evictDownTo(this.capacity);
      staged = scope.finish();
      return result;
    });
    return committed.then(
      (result) => {
        if (staged !== undefined) this.cache.settle(staged);
        return result;
      },
      (error: unknown) => {
        if (staged !== undefined) this.cache.clear();
        throw error;
      },
    );
  }

  /** Once any process built the eviction index, every writer keeps it; see databases.ts. */
  private evictionIndexed = false;
  /** Reused by every write transaction, which lmdb runs one at a time. */
  private readonly journal = new JournalRecordBuilder();

  private setConsolidation(ids: readonly string[], consolidated: boolean, plasticity: number): Promise<Pattern[]> {
    return this.write((scope) => {
      if (!(plasticity >= 0 && plasticity <= 1)) throw new PatternValidationError('plasticity', `must be within 0..1, got ${plasticity}`);
      return [...new Set(ids)].map((id) => {
        scope.recordEvent({ type: 'consolidate', at: scope.at, id, consolidated, plasticity });
        // The changed pattern shares its embedding with the stored one it was made from, which may be cached.
        return copyOut(scope.get(id) as Pattern);
      });
    });
  }

  /** `embedding` is the memory's copy of `input.embedding` when the caller made one: the cache's for an upsert, else see ownCopy. */
  private fromInput(
    input: PatternInput,
    owned: Pick<Pattern, 'version' | 'createdAt' | 'updatedAt' | 'consolidated' | 'plasticity'>,
    embedding: Float32Array = ownCopy(input.embedding),
  ): Pattern {
    const pattern: { -readonly [F in keyof Pattern]: Pattern[F] } = {
      id: input.id,
      embedding,
      outcome: input.outcome,
      confidence: input.confidence,
      support: input.support,
      successes: input.successes,
      version: owned.version,
      origin: input.origin,
      featureSpaceId: input.featureSpaceId ?? this.format.featureSpaceId,
      tags: Array.isArray(input.tags) ? input.tags.slice() : (input.tags ?? []),
      consolidated: owned.consolidated,
      plasticity: owned.plasticity,
      createdAt: owned.createdAt,
      updatedAt: owned.updatedAt,
    };
    // Added afterwards rather than spread into the literal, which V8 builds on a much slower path.
    if (input.condition !== undefined) pattern.condition = input.condition;
    validatePattern(pattern, this.format);
    return pattern;
  }

  private async restoreSnapshot(info: SnapshotInfo, patterns: AsyncIterable<Pattern> | Iterable<Pattern>): Promise<void> {
    const all: Pattern[] = [];
    for await (const pattern of patterns) {
      // A restore copies another memory's history byte for byte, which may predate the write-time rules.
      validateStoredPattern(pattern, this.format);
      all.push(pattern);
    }
    if (all.length !== info.count) {
      throw new JournalError('JOURNAL_GAP', `snapshot ${info.seq} should hold ${info.count} patterns, the source gave ${all.length}`);
    }
    const ids = new Set(all.map((pattern) => pattern.id));
    for (const id of info.exemplars ?? []) if (!ids.has(id)) throw new PatternNotFoundError(id);
    await this.transact((scope) => {
      if (scope.seq !== 0 || scope.count !== 0) {
        throw new JournalError('JOURNAL_NOT_EMPTY', `a snapshot can only be restored into an empty memory; this one is at event ${scope.seq}`);
      }
      for (const pattern of all) this.dbs.snapshots.put([info.seq, pattern.id], scope.put(pattern));
      this.dbs.meta.put(['snapshot', info.seq], info);
      this.dbs.meta.put('compactedThrough', info.seq);
      if (info.exemplars !== undefined && info.exemplars.length > 0) scope.setExemplars(info.exemplars);
      scope.seq = info.seq;
    }, false);
  }
}

/**
 * The state one write transaction sees and changes. It keeps the counters
 * in the meta database in step, collects the transaction's events into one
 * journal record under the next sequence numbers, and keeps the eviction
 * index, when there is one, in step with the patterns. Sequence numbers
 * are read and advanced inside the LMDB write transaction, which holds the
 * environment's write lock, so they stay unique and gapless across every
 * process sharing the memory.
 */
class WriteScope implements PatternState {
  seq: number;
  count: number;
  private readonly startSeq: number;
  private readonly startCount: number;
  private readonly changes = new Map<string, Pattern | null>();
  /** Patterns read from LMDB by this transaction; undefined when absent. */
  private readonly read = new Map<string, Pattern | undefined>();
  /** Whether the cache may keep this transaction's patterns as they are (see StagedChanges). */
  adopt = false;
  /** Whether the next `put` writes the pattern of the event being recorded, whose record goes into the journal. */
  private journaling = false;
  private appending = true;
  /** A batch's upserts share one time, so they share one encoded envelope. */
  private upsertEnvelope: { readonly at: number; readonly bytes: Uint8Array } | undefined;

  constructor(
    private readonly dbs: Databases,
    private readonly format: MemoryFormat,
    private readonly cache: PatternCache,
    private readonly journal: JournalRecordBuilder,
    readonly at: number,
    private readonly indexed: boolean,
  ) {
    journal.begin();
    this.seq = this.startSeq = dbs.meta.get('seq') as number;
    this.count = this.startCount = dbs.meta.get('count') as number;
    cache.beginWrite(this.seq);
  }

  get(id: string): Pattern | undefined {
    const known = this.known(id);
    if (known !== undefined) return known ?? undefined;
    const stored = readBinaryKey(this.dbs.patterns, 'patterns', id, this.cache.decode);
    this.read.set(id, stored);
    if (stored !== undefined) this.cache.rememberInWrite(stored);
    return stored;
  }

  /** What this transaction can tell without reading LMDB: the stored pattern, null if none is, undefined if it cannot tell. */
  known(id: string): Pattern | null | undefined {
    const changed = this.changes.get(id);
    if (changed !== undefined) return changed;
    const cached = this.cache.lookup(id);
    if (cached !== undefined) return cached;
    return this.read.has(id) ? (this.read.get(id) ?? null) : undefined;
  }

  /**
   * `known`, except that it does not look while this transaction appends:
   * undefined sends the caller to `recordNew`, where LMDB's append tells by
   * itself, and the lookups are made only once an append is refused. For a
   * new id they end in a miss in a cache of up to `cacheSize` entries,
   * close to a tenth of a batch's time at 64 dimensions.
   */
  knownUnlessAppending(id: string): Pattern | null | undefined {
    return this.appending ? undefined : this.known(id);
  }

  /**
   * Writes a pattern and returns its record. The pattern of an event being
   * recorded is encoded straight into the journal record, behind the
   * event's envelope; any other (a consolidation's, a snapshot's) into a
   * slab of its own, as the returned view must then outlive the transaction.
   */
  put(pattern: Pattern): Uint8Array {
    const prior = this.get(pattern.id);
    if (prior !== undefined && this.indexed && !prior.consolidated) this.dbs.eviction.remove(evictionKey(prior, this.format.recencyHalfLifeMs));
    const bytes = this.journaling ? this.journal.appendPattern(pattern) : encodePattern(pattern);
    this.journaling = false;
    this.dbs.patterns.put(pattern.id, bytes);
    this.wrote(pattern, prior === undefined);
    return bytes;
  }

  /**
   * Records the upsert of a pattern that may be new (see knownUnlessAppending)
   * without reading it first: LMDB refuses to overwrite a stored record,
   * and false sends the caller to the read-modify-write path. Batches
   * mostly write new patterns, and each then costs one B-tree descent
   * instead of two. For an absent pattern this is what `applyEvent` does.
   */
  recordNew(event: Extract<PendingEvent, { type: 'upsert' }>): boolean {
    const mark = this.journal.mark();
    this.journal.append(this.envelopeOf(event));
    const bytes = this.journal.appendPattern(event.pattern);
    if (!this.insert(event.pattern.id, bytes)) {
      this.journal.truncate(mark, 2);
      return false;
    }
    this.wrote(event.pattern, true);
    this.seq++;
    return true;
  }

  /**
   * Puts a record unless its id is stored. Ids past the last stored one
   * are appended (MDB_APPEND), which fills pages instead of splitting them
   * in half; LMDB refuses an append out of order, and after the first
   * refusal this transaction stops trying. An id tried while appending was
   * not looked up (see knownUnlessAppending); a known one is stored, or
   * removed by this transaction or one before it, and goes to the
   * read-modify-write path.
   */
  private insert(id: string, bytes: Uint8Array): boolean {
    if (this.appending) {
      if (putIfNew(this.dbs.patterns, id, bytes, true)) return true;
      this.appending = false;
      if (this.known(id) !== undefined) return false;
    }
    return putIfNew(this.dbs.patterns, id, bytes, false);
  }

  private wrote(pattern: Pattern, added: boolean): void {
    if (added) this.count++;
    if (this.indexed && !pattern.consolidated) this.dbs.eviction.put(evictionKey(pattern, this.format.recencyHalfLifeMs), EMPTY);
    this.changes.set(pattern.id, pattern);
  }

  setExemplars(ids: readonly string[]): void {
    this.dbs.meta.put('exemplars', [...ids]);
  }

  remove(id: string): void {
    const prior = this.get(id);
    if (prior === undefined) return;
    if (this.indexed && !prior.consolidated) this.dbs.eviction.remove(evictionKey(prior, this.format.recencyHalfLifeMs));
    this.dbs.patterns.remove(id);
    this.count--;
    this.changes.set(id, null);
  }

  /** Applies the event and journals it: its envelope, then the record of the pattern it carries, if any (see put). */
  recordEvent(event: PendingEvent): void {
    this.journal.append(this.envelopeOf(event));
    // A throw anywhere in here rolls back the whole operation, this scope and its journal record with it.
    this.journaling = 'pattern' in event;
    applyEvent(this, event);
    this.journaling = false;
    this.seq++;
  }

  private envelopeOf(event: PendingEvent): Uint8Array {
    if (event.type !== 'upsert') return encodeEnvelope(event);
    if (this.upsertEnvelope?.at !== event.at) this.upsertEnvelope = { at: event.at, bytes: encodeEnvelope(event) };
    return this.upsertEnvelope.bytes;
  }

  restoreEvent(event: JournalEvent, format: MemoryFormat): void {
    if (event.seq !== this.seq + 1) {
      throw new JournalError('JOURNAL_GAP', `event ${event.seq} cannot follow event ${this.seq}`);
    }
    // As for a snapshot (see restoreSnapshot), the history may predate the write-time rules.
    if ('pattern' in event) validateStoredPattern(event.pattern, format);
    this.recordEvent(event);
    // A consolidate event carries no pattern to check beforehand; a bad plasticity shows in the result, and throwing rolls it back.
    if (event.type === 'consolidate') validateStoredPattern(this.get(event.id), format);
  }

  /** Evicts lowest-utility patterns until the count fits; each eviction is journaled like any other change. */
  evictDownTo(capacity: number): void {
    while (this.count > capacity) {
      const [victim] = this.dbs.eviction.getKeys({ limit: 1 });
      if (victim === undefined) throw new MemoryFullError(capacity);
      this.recordEvent({ type: 'evict', at: this.at, id: victim[2] });
    }
  }

  /** Writes the journal record and the counters; returns what the cache must learn once this commits. */
  finish(): StagedChanges | undefined {
    if (this.journal.count > 0) {
      const record = this.journal.finish();
      // Sequence numbers only grow, so the record goes at the end, unless a stray key sits past it.
      if (!putIfNew(this.dbs.journal, this.startSeq + 1, record, true)) this.dbs.journal.put(this.startSeq + 1, record);
    }
    if (this.seq !== this.startSeq) this.dbs.meta.put('seq', this.seq);
    if (this.count !== this.startCount) this.dbs.meta.put('count', this.count);
    if (this.seq === this.startSeq && this.changes.size === 0) return undefined;
    const staged: StagedChanges = { from: this.startSeq + 1, to: this.seq, patterns: this.changes, adopt: this.adopt };
    this.cache.stage(staged);
    return staged;
  }
}

const INSERT = { noOverwrite: true } as const;
/**
 * MDB_APPEND alone never overwrites: LMDB refuses any key not past the
 * last one (MDB_KEYEXIST, a false put). Adding noOverwrite would cost a
 * lookup per put, as lmdb-js checks it with a get of its own first.
 */
const APPEND = { append: true } as const;

/** Inside a write transaction: whether the put happened (lmdb's typings say void). */
function putIfNew<K extends Key>(db: Database<Uint8Array, K>, key: K, bytes: Uint8Array, append: boolean): boolean {
  return db.putSync(key, bytes, append ? APPEND : INSERT) as unknown as boolean;
}

interface LmdbStats {
  readonly pageSize: number;
  readonly treeBranchPageCount: number;
  readonly treeLeafPageCount: number;
  readonly overflowPages: number;
}

function pagesOf(stats: LmdbStats): number {
  return (stats.treeBranchPageCount + stats.treeLeafPageCount + stats.overflowPages) * stats.pageSize;
}

/**
 * The memory's own copy of a caller's embedding, a view into a shared slab
 * (see embedding-pool.ts): the pattern returned for a write holds it, so a
 * caller keeping that pattern keeps at most one slab, not a whole batch's
 * copies. Anything but a Float32Array is passed on for validation to refuse.
 */
function ownCopy(embedding: unknown): Float32Array {
  return (embedding instanceof Float32Array ? callerEmbeddings.fromFloats(embedding) : embedding) as Float32Array;
}

function receiptOf(p: Pattern): PatternReceipt {
  return { id: p.id, version: p.version, createdAt: p.createdAt, updatedAt: p.updatedAt, consolidated: p.consolidated, plasticity: p.plasticity };
}

function missing(id: string): never {
  throw new PatternNotFoundError(id);
}
