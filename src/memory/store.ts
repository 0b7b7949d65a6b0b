import { fromStored, toStored } from './codec.js';
import { initialiseFormat, openDatabases, type Databases, type MemoryFormat, type SnapshotInfo } from './databases.js';
import { JournalError, MemoryFullError, MemoryOptionsError, PatternNotFoundError } from './errors.js';
import { DEFAULT_RECENCY_HALF_LIFE_MS, evictionKey } from './eviction.js';
import { checkIntegrity, type IntegrityReport } from './integrity.js';
import { applyEvent, fromStoredEvent, toStoredEvent, type JournalEvent, type PatternState, type PendingEvent } from './journal.js';
import { PatternValidationError, validatePattern, type Pattern, type PatternInput } from './pattern.js';
import { readKey, scanRange, streamRange } from './ranges.js';
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

  get(id: string): Pattern | undefined;
  has(id: string): boolean;
  /** Every pattern in id order, from one consistent read of the database. */
  iterate(): Generator<Pattern>;
  count(): number;
  bytesUsed(): MemoryBytes;
  /** The sequence number of the newest journal event; 0 for a new memory. */
  lastSeq(): number;

  /** Writes one pattern: version 1 if new, else the stored version + 1. Consolidation is kept. */
  upsert(input: PatternInput): Promise<Pattern>;
  /** Writes all patterns in one transaction: all of them, or none if one is invalid. */
  upsertMany(inputs: readonly PatternInput[]): Promise<Pattern[]>;
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
   * are in its journal.
   */
  restore(source: RestoreSource): Promise<void>;
  /** Drops journal events and snapshots older than the newest snapshot. */
  compact(): Promise<CompactionResult>;
  checkIntegrity(): IntegrityReport;
  close(): Promise<void>;
}

const RESTORE_CHUNK = 512;
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
  const dbs = openDatabases(options.path);
  let format: MemoryFormat;
  try {
    format = initialiseFormat(dbs, { dimensions, featureSpaceId, recencyHalfLifeMs: halfLife }, DEFAULT_RECENCY_HALF_LIFE_MS);
  } catch (error) {
    await dbs.root.close();
    throw error;
  }
  return new LmdbPatternMemory(options.path, dbs, format, capacity, options.clock ?? Date.now);
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
  ) {
    this.dimensions = format.dimensions;
    this.featureSpaceId = format.featureSpaceId;
    this.recencyHalfLifeMs = format.recencyHalfLifeMs;
  }

  get(id: string): Pattern | undefined {
    return readKey(this.dbs.patterns, 'patterns', id, undefined, (_key, value) => fromStored(value, this.format));
  }

  has(id: string): boolean {
    return this.dbs.patterns.doesExist(id);
  }

  *iterate(): Generator<Pattern> {
    const transaction = this.dbs.root.useReadTransaction();
    try {
      yield* scanRange(this.dbs.patterns, 'patterns', { transaction }, (_key, value) => fromStored(value, this.format), (p) => p.id);
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
    return this.dbs.meta.get('seq') as number;
  }

  async upsert(input: PatternInput): Promise<Pattern> {
    const [pattern] = await this.upsertMany([input]);
    return pattern as Pattern;
  }

  upsertMany(inputs: readonly PatternInput[]): Promise<Pattern[]> {
    return this.write((scope) =>
      inputs.map((input) => {
        const prior = scope.get(input.id);
        const updatedAt = Math.max(scope.at, prior?.updatedAt ?? 0);
        const pattern = this.fromInput(input, {
          version: (prior?.version ?? 0) + 1,
          createdAt: prior?.createdAt ?? updatedAt,
          updatedAt,
          consolidated: prior?.consolidated ?? false,
          plasticity: input.plasticity ?? prior?.plasticity ?? 1,
        });
        scope.record({ type: 'upsert', at: scope.at, pattern });
        return pattern;
      }),
    );
  }

  delete(id: string): Promise<boolean> {
    return this.write((scope) => {
      if (scope.get(id) === undefined) return false;
      scope.record({ type: 'delete', at: scope.at, id });
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
      scope.record({ type: 'merge', at: scope.at, sources: unique, pattern });
      return pattern;
    });
  }

  consolidate(ids: readonly string[], options: ConsolidateOptions = {}): Promise<Pattern[]> {
    return this.setConsolidation(ids, true, options.plasticity ?? 0.1);
  }

  release(ids: readonly string[], options: ReleaseOptions = {}): Promise<Pattern[]> {
    return this.setConsolidation(ids, false, options.plasticity ?? 1);
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
        scope.record({ type: 'import', at: scope.at, source: options.source, pattern });
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
    const events = streamRange(
      this.dbs.journal,
      'journal',
      { start: expected, ...(range.to === undefined ? {} : { end: range.to, inclusiveEnd: true }) },
      (seq, value) => fromStoredEvent(seq, value, this.format),
      (event) => event.seq,
    );
    for await (const event of events) {
      // The journal has no holes; one appearing mid-stream means a concurrent compaction removed events we were due to read.
      if (event.seq !== expected) {
        throw new JournalError('JOURNAL_COMPACTED', `events ${expected}..${event.seq - 1} were compacted during the replay`);
      }
      expected++;
      yield event;
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
      await this.dbs.root.childTransaction(() => {
        const scope = this.scope();
        for (const event of events) scope.restoreEvent(event, this.format);
        scope.finish();
      });
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
      let droppedEvents = 0;
      for (const seq of [...this.dbs.journal.getKeys({ start: 0, end: newest.seq, inclusiveEnd: true })]) {
        this.dbs.journal.remove(seq);
        droppedEvents++;
      }
      const droppedSnapshots = dropSnapshotsBefore(this.dbs, newest.seq);
      this.dbs.meta.put('compactedThrough', newest.seq);
      return { compactedThrough: newest.seq, droppedEvents, droppedSnapshots };
    });
  }

  checkIntegrity(): IntegrityReport {
    return checkIntegrity(this.dbs, this.format);
  }

  async close(): Promise<void> {
    await this.dbs.root.committed;
    await this.dbs.root.close();
  }

  /**
   * Runs one operation in its own child transaction: lmdb batches it with
   * other writes into one LMDB transaction for throughput, while a throw
   * rolls back this operation alone. Capacity is enforced before it commits.
   */
  private write<T>(operation: (scope: WriteScope) => T): Promise<T> {
    return this.dbs.root.childTransaction(() => {
      const scope = this.scope();
      const result = operation(scope);
      scope.evictDownTo(this.capacity);
      scope.finish();
      return result;
    });
  }

  private scope(): WriteScope {
    return new WriteScope(this.dbs, this.format, this.clock());
  }

  private setConsolidation(ids: readonly string[], consolidated: boolean, plasticity: number): Promise<Pattern[]> {
    return this.write((scope) => {
      if (!(plasticity >= 0 && plasticity <= 1)) throw new PatternValidationError('plasticity', `must be within 0..1, got ${plasticity}`);
      return [...new Set(ids)].map((id) => {
        scope.record({ type: 'consolidate', at: scope.at, id, consolidated, plasticity });
        return scope.get(id) as Pattern;
      });
    });
  }

  private fromInput(
    input: PatternInput,
    owned: Pick<Pattern, 'version' | 'createdAt' | 'updatedAt' | 'consolidated' | 'plasticity'>,
  ): Pattern {
    const embedding: unknown = input.embedding;
    const pattern: Pattern = {
      id: input.id,
      embedding: embedding instanceof Float32Array ? embedding.slice() : input.embedding,
      outcome: input.outcome,
      confidence: input.confidence,
      support: input.support,
      successes: input.successes,
      version: owned.version,
      origin: input.origin,
      featureSpaceId: input.featureSpaceId ?? this.format.featureSpaceId,
      tags: Array.isArray(input.tags) ? [...input.tags] : (input.tags ?? []),
      ...(input.condition === undefined ? {} : { condition: input.condition }),
      consolidated: owned.consolidated,
      plasticity: owned.plasticity,
      createdAt: owned.createdAt,
      updatedAt: owned.updatedAt,
    };
    validatePattern(pattern, this.format);
    return pattern;
  }

  private async restoreSnapshot(info: SnapshotInfo, patterns: AsyncIterable<Pattern> | Iterable<Pattern>): Promise<void> {
    const all: Pattern[] = [];
    for await (const pattern of patterns) {
      validatePattern(pattern, this.format);
      all.push(pattern);
    }
    if (all.length !== info.count) {
      throw new JournalError('JOURNAL_GAP', `snapshot ${info.seq} should hold ${info.count} patterns, the source gave ${all.length}`);
    }
    await this.dbs.root.childTransaction(() => {
      const scope = this.scope();
      if (scope.seq !== 0 || scope.count !== 0) {
        throw new JournalError('JOURNAL_NOT_EMPTY', `a snapshot can only be restored into an empty memory; this one is at event ${scope.seq}`);
      }
      for (const pattern of all) {
        scope.put(pattern);
        this.dbs.snapshots.put([info.seq, pattern.id], toStored(pattern));
      }
      this.dbs.meta.put(['snapshot', info.seq], info);
      this.dbs.meta.put('compactedThrough', info.seq);
      scope.seq = info.seq;
      scope.finish();
    });
  }
}

/**
 * The state one write transaction sees and changes. It keeps the counters
 * in the meta database in step, appends each event to the journal with the
 * next sequence number, and keeps the eviction index in step with the
 * patterns. Sequence numbers are read and advanced inside the LMDB write
 * transaction, which holds the environment's write lock, so they stay
 * unique and gapless across every process sharing the memory.
 */
class WriteScope implements PatternState {
  seq: number;
  count: number;
  private readonly seen = new Map<string, Pattern | undefined>();

  constructor(
    private readonly dbs: Databases,
    private readonly format: MemoryFormat,
    readonly at: number,
  ) {
    this.seq = dbs.meta.get('seq') as number;
    this.count = dbs.meta.get('count') as number;
  }

  get(id: string): Pattern | undefined {
    if (this.seen.has(id)) return this.seen.get(id);
    const pattern = readKey(this.dbs.patterns, 'patterns', id, undefined, (_key, value) => fromStored(value, this.format));
    this.seen.set(id, pattern);
    return pattern;
  }

  put(pattern: Pattern): void {
    const prior = this.get(pattern.id);
    if (prior === undefined) this.count++;
    else if (!prior.consolidated) this.dbs.eviction.remove(evictionKey(prior, this.format.recencyHalfLifeMs));
    this.dbs.patterns.put(pattern.id, toStored(pattern));
    if (!pattern.consolidated) this.dbs.eviction.put(evictionKey(pattern, this.format.recencyHalfLifeMs), EMPTY);
    this.seen.set(pattern.id, pattern);
  }

  remove(id: string): void {
    const prior = this.get(id);
    if (prior === undefined) return;
    if (!prior.consolidated) this.dbs.eviction.remove(evictionKey(prior, this.format.recencyHalfLifeMs));
    this.dbs.patterns.remove(id);
    this.count--;
    this.seen.set(id, undefined);
  }

  record(event: PendingEvent): void {
    applyEvent(this, event);
    this.seq++;
    this.dbs.journal.put(this.seq, toStoredEvent(event));
  }

  restoreEvent(event: JournalEvent, format: MemoryFormat): void {
    if (event.seq !== this.seq + 1) {
      throw new JournalError('JOURNAL_GAP', `event ${event.seq} cannot follow event ${this.seq}`);
    }
    if ('pattern' in event) validatePattern(event.pattern, format);
    this.record(event);
    // A consolidate event carries no pattern to check beforehand; a bad plasticity shows in the result, and throwing rolls it back.
    if (event.type === 'consolidate') validatePattern(this.get(event.id), format);
  }

  /** Evicts lowest-utility patterns until the count fits; each eviction is journaled like any other change. */
  evictDownTo(capacity: number): void {
    while (this.count > capacity) {
      const [victim] = this.dbs.eviction.getKeys({ limit: 1 });
      if (victim === undefined) throw new MemoryFullError(capacity);
      this.record({ type: 'evict', at: this.at, id: victim[2] });
    }
  }

  finish(): void {
    this.dbs.meta.put('seq', this.seq);
    this.dbs.meta.put('count', this.count);
  }
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

function missing(id: string): never {
  throw new PatternNotFoundError(id);
}
