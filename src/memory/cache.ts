import { decodePattern } from './codec.js';
import { callerEmbeddings, EmbeddingPool } from './embedding-pool.js';
import type { Pattern, PatternExpectations } from './pattern.js';

/** What one write transaction did to patterns (null: removed), and the journal sequence numbers it spans. */
export interface StagedChanges {
  readonly from: number;
  readonly to: number;
  readonly patterns: ReadonlyMap<string, Pattern | null>;
  /**
   * The patterns were built for the cache, their embeddings copied into its
   * arena (`ownEmbedding`), and no caller holds them: the cache keeps them
   * as they are instead of copying each.
   */
  readonly adopt: boolean;
}

/**
 * Decoded patterns kept in memory so reads skip LMDB and msgpack, kept
 * coherent with the journal's sequence numbers rather than with time.
 *
 * The cache holds the committed memory as of journal position `seq`
 * (absent ids are simply unknown). This process's own writes are staged
 * while their transaction is in flight, so later transactions in the same
 * LMDB batch see them, and reads see them once LMDB reports the commit.
 * Writes from other processes are detected by the journal position moving
 * past what this process accounts for: inside a write transaction, which
 * holds the write lock, by comparing the position the transaction sees;
 * for reads, by one check of the position per event-loop turn, the same
 * granularity at which lmdb-js renews its read snapshot. Either way the
 * whole cache is dropped and refilled from LMDB on demand: several
 * processes writing one memory share LMDB's page cache instead.
 *
 * Entries are patterns no caller holds, whose embeddings live in an arena
 * (below): copies, or patterns an upsert built for the cache and handed to
 * no one. Nothing stored here is handed to a caller.
 *
 * Copying a transaction's patterns into the cache need not wait for the
 * commit, so it runs as soon as lmdb has run the transaction's callback,
 * in a microtask, while lmdb's own thread (resumed before microtasks run)
 * commits and syncs: waiting for the report would leave the main thread
 * idle during the sync and add the copies, about a tenth of a batch's
 * time at 64 dimensions, after it. The copies sit in `entries` ahead of
 * their commit, so reads outside write transactions look past them
 * (`committed`) until the commit is reported; a failed commit clears the
 * whole cache.
 */
export class PatternCache {
  private readonly entries = new Map<string, Pattern>();
  private staged: Staging[] = [];
  private checkedThisTurn = false;
  private readonly arena = new EmbeddingPool(ARENA_SLAB_BYTES);

  constructor(
    private readonly limit: number,
    private seq: number,
    private readonly expect: PatternExpectations,
  ) {}

  /** Decodes a stored record into a pattern fit for the cache (its embedding in the arena); never hand it out as is. */
  readonly decode = (record: Uint8Array): Pattern => decodePattern(record, this.expect, this.arena.fromBytes);

  /** Before reads outside a write transaction; `readSeq` gives the journal position LMDB's current read snapshot holds. */
  checkForReads(readSeq: () => number): void {
    if (this.checkedThisTurn) return;
    this.checkedThisTurn = true;
    setImmediate(() => {
      this.checkedThisTurn = false;
    });
    const seq = readSeq();
    if (seq > this.known()) this.reset(seq);
  }

  /** A committed pattern, for reads outside a write transaction. */
  committed(id: string): Pattern | undefined {
    if (this.staged.length > 0 && this.appliedAhead(id)) return undefined;
    return this.entries.get(id);
  }

  /**
   * Keeps a pattern read from LMDB outside a write transaction, if the
   * snapshot it came from (at `readSeq`) is no older than the cache: an
   * older snapshot may predate a write the cache already forgot.
   */
  rememberRead(readSeq: number, pattern: Pattern): void {
    if (readSeq >= this.seq && readSeq <= this.known() && !this.appliedAhead(pattern.id)) this.insert(pattern.id, pattern);
  }

  /** A copy of a caller's embedding in the cache's arena, for a pattern the cache will adopt (see StagedChanges). */
  readonly ownEmbedding = (embedding: Float32Array): Float32Array => this.arena.fromFloats(embedding);

  /** At the start of a write transaction, given the journal position it sees. */
  beginWrite(txnSeq: number): void {
    if (txnSeq !== this.known()) this.reset(txnSeq);
  }

  /** Inside a write transaction: a pattern, null if staged as removed, undefined if unknown. */
  lookup(id: string): Pattern | null | undefined {
    for (let i = this.staged.length - 1; i >= 0; i--) {
      const change = (this.staged[i] as Staging).changes.patterns.get(id);
      if (change !== undefined) return change;
    }
    return this.entries.get(id);
  }

  /**
   * Keeps a pattern read inside a write transaction. `beginWrite` made sure
   * every event the transaction sees past `seq` is staged here, so a pattern
   * no staged change touched is as it was at `seq`.
   */
  rememberInWrite(pattern: Pattern): void {
    this.insert(pattern.id, pattern);
  }

  /** At the end of a write transaction's callback; see the class comment for what happens next. */
  stage(changes: StagedChanges): void {
    const staging: Staging = { changes, applied: false };
    this.staged.push(staging);
    queueMicrotask(() => this.applyAhead(staging));
  }

  /** The transaction of `changes` committed. */
  settle(changes: StagedChanges): void {
    const index = this.staged.findIndex((staging) => staging.changes === changes);
    const applied = index >= 0 && (this.staged[index] as Staging).applied;
    if (index >= 0) this.staged.splice(index, 1);
    if (changes.to <= this.seq) return;
    if (changes.from !== this.seq + 1) this.entries.clear();
    if (!applied) this.apply(changes);
    this.seq = changes.to;
  }

  /** Forgets everything, as when a transaction with staged changes failed to commit. */
  clear(): void {
    this.reset(-1);
  }

  /** The newest journal position this process accounts for: the cache plus its own writes in flight. */
  private known(): number {
    return this.staged.at(-1)?.changes.to ?? this.seq;
  }

  private reset(seq: number): void {
    this.entries.clear();
    this.staged = [];
    this.seq = seq;
  }

  /** Unless the cache was reset since the transaction staged its changes, which dropped them. */
  private applyAhead(staging: Staging): void {
    if (!this.staged.includes(staging)) return;
    this.apply(staging.changes);
    staging.applied = true;
  }

  private apply(changes: StagedChanges): void {
    if (this.limit === 0) return;
    for (const [id, pattern] of changes.patterns) {
      if (pattern === null) this.entries.delete(id);
      else this.insert(id, changes.adopt ? pattern : this.privateCopy(pattern));
    }
  }

  /** Whether `id`'s entry, or its absence, is a change still committing. */
  private appliedAhead(id: string): boolean {
    for (const staging of this.staged) if (staging.applied && staging.changes.patterns.has(id)) return true;
    return false;
  }

  private privateCopy(p: Pattern): Pattern {
    return cachedCopy(p, this.arena.fromFloats(p.embedding));
  }

  /**
   * Past the limit, the oldest tenth of the entries go in one pass: a Map
   * iterator skips the holes deletions leave at its front, so dropping
   * one entry at a time would cost a scan over them per insert.
   */
  private insert(id: string, entry: Pattern): void {
    if (this.limit === 0) return;
    this.entries.set(id, entry);
    if (this.entries.size <= this.limit) return;
    let excess = this.entries.size - Math.floor(this.limit * 0.9);
    for (const oldest of this.entries.keys()) {
      if (excess-- === 0) break;
      this.entries.delete(oldest);
    }
  }
}

/** A write transaction's changes, from the end of its callback until its commit is reported. */
interface Staging {
  readonly changes: StagedChanges;
  /** Whether `entries` holds them already. */
  applied: boolean;
}

/**
 * Cached patterns' embeddings live side by side in large slabs of their own
 * (see embedding-pool.ts); a slab is freed once no cached pattern uses it.
 * Callers never see these views, only copies.
 */
const ARENA_SLAB_BYTES = 256 * 1024;

/**
 * A caller's copy of a cached pattern, sharing nothing mutable with it or
 * with any other copy; its embedding is a view of its own into a slab of
 * callers' embeddings (see embedding-pool.ts).
 */
export function copyOut(p: Pattern): Pattern {
  return callerCopy(p, callerEmbeddings.fromFloats(p.embedding));
}

/** A caller's copy of a cached pattern whose embedding is `target`, filled from the cached one; nothing else is shared. */
export function copyInto(p: Pattern, target: Float32Array): Pattern {
  target.set(p.embedding);
  return callerCopy(p, target);
}

/**
 * The pattern with its own tags and the given embedding, for the cache to
 * keep. Spelled out field by field because V8 builds such a literal far
 * faster than a spread, and as two literals so that every copy has one of
 * two fixed shapes.
 */
function cachedCopy(p: Pattern, embedding: Float32Array): Pattern {
  return p.condition === undefined
    ? {
        id: p.id,
        embedding,
        outcome: p.outcome,
        confidence: p.confidence,
        support: p.support,
        successes: p.successes,
        version: p.version,
        origin: p.origin,
        featureSpaceId: p.featureSpaceId,
        tags: p.tags.slice(),
        consolidated: p.consolidated,
        plasticity: p.plasticity,
        createdAt: p.createdAt,
        updatedAt: p.updatedAt,
      }
    : {
        id: p.id,
        embedding,
        outcome: p.outcome,
        confidence: p.confidence,
        support: p.support,
        successes: p.successes,
        version: p.version,
        origin: p.origin,
        featureSpaceId: p.featureSpaceId,
        tags: p.tags.slice(),
        condition: p.condition,
        consolidated: p.consolidated,
        plasticity: p.plasticity,
        createdAt: p.createdAt,
        updatedAt: p.updatedAt,
      };
}

/**
 * `cachedCopy` for a caller, spelled out again on purpose. V8 decides per
 * object literal whether to allocate its objects straight into the old
 * generation, from how many survived so far: cache entries all survive, so
 * a literal shared with them sent every copy handed out to a caller, which
 * mostly dies at once, into the old generation too, and reads spent their
 * time in full collections (gets at 384 dimensions ran at less than half the rate).
 */
function callerCopy(p: Pattern, embedding: Float32Array): Pattern {
  return p.condition === undefined
    ? {
        id: p.id,
        embedding,
        outcome: p.outcome,
        confidence: p.confidence,
        support: p.support,
        successes: p.successes,
        version: p.version,
        origin: p.origin,
        featureSpaceId: p.featureSpaceId,
        tags: p.tags.slice(),
        consolidated: p.consolidated,
        plasticity: p.plasticity,
        createdAt: p.createdAt,
        updatedAt: p.updatedAt,
      }
    : {
        id: p.id,
        embedding,
        outcome: p.outcome,
        confidence: p.confidence,
        support: p.support,
        successes: p.successes,
        version: p.version,
        origin: p.origin,
        featureSpaceId: p.featureSpaceId,
        tags: p.tags.slice(),
        condition: p.condition,
        consolidated: p.consolidated,
        plasticity: p.plasticity,
        createdAt: p.createdAt,
        updatedAt: p.updatedAt,
      };
}
