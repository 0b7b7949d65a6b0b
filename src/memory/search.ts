import fs from 'node:fs';
import path from 'node:path';
import { JournalError } from './errors.js';
import type { JournalEvent } from './journal.js';
import { isZeroVector, type Pattern } from './pattern.js';
import type { PatternMemory } from './store.js';
import { VectorIndex, type HnswLoadReport, type SearchOptions, type VectorIndexOptions, type VectorMatch } from './vector-index.js';

export interface PatternSearchOptions {
  /** HNSW settings for the index (`false`: exact search only). */
  readonly hnsw?: VectorIndexOptions['hnsw'];
  readonly loadUsearch?: VectorIndexOptions['loadUsearch'];
  readonly onWarning?: VectorIndexOptions['onWarning'];
  /** Where the HNSW graph is saved on close and loaded on open. Default: `vectors.hnsw` inside the memory's directory. */
  readonly graphPath?: string;
}

export interface PatternMatch extends VectorMatch {
  readonly pattern: Pattern;
}

/** How the index was made searchable when it was opened. */
export interface SearchOpenReport {
  readonly patterns: number;
  /** Patterns left out because their embedding is all zeros: stored before memories refused them, and unsearchable. */
  readonly ignored: number;
  /** Time to load every stored vector into the index. */
  readonly vectorsMs: number;
  readonly graph: HnswLoadReport;
}

/**
 * Similarity search over a pattern memory. The vector index is a projection
 * of the memory's journal: opening loads the stored vectors (no
 * re-embedding) and the saved HNSW graph, patched with whatever changed
 * since it was saved; every search first applies the journal events it has
 * not seen, so it reflects every committed write — upserts, merges,
 * evictions and deletes, from this process or another one sharing the
 * directory — without the store having to notify anyone.
 */
export class PatternSearch {
  private applied: number;

  private constructor(
    readonly memory: PatternMemory,
    readonly index: VectorIndex,
    private readonly graphPath: string,
    applied: number,
    readonly opened: SearchOpenReport,
  ) {
    this.applied = applied;
  }

  static async open(memory: PatternMemory, options: PatternSearchOptions = {}): Promise<PatternSearch> {
    const index = await VectorIndex.open({
      dimensions: memory.dimensions,
      hnsw: options.hnsw,
      loadUsearch: options.loadUsearch,
      onWarning: options.onWarning,
      initialCapacity: memory.count(),
    });
    const graphPath = options.graphPath ?? path.join(memory.path, 'vectors.hnsw');
    const started = performance.now();
    // Read the sequence number before the patterns: events in between are replayed again, which is harmless.
    const { applied, ignored } = loadAll(memory, index);
    const vectorsMs = performance.now() - started;
    if (ignored > 0) {
      const message = `swarmbank pattern search: ignored ${ignored} pattern(s) of ${memory.path} with an all-zero embedding`;
      if (options.onWarning === undefined) process.emitWarning(message, { code: 'SWARMBANK_ZERO_EMBEDDING' });
      else options.onWarning(message);
    }
    const graph = index.loadHnsw(graphPath);
    return new PatternSearch(memory, index, graphPath, applied, { patterns: index.size, ignored, vectorsMs, graph });
  }

  /** The k patterns most similar to `query` (cosine), after catching up with the journal. */
  async search(query: ArrayLike<number>, k: number, options: SearchOptions = {}): Promise<PatternMatch[]> {
    await this.catchUp();
    const matches: PatternMatch[] = [];
    for (const match of this.index.search(query, k, options)) {
      const pattern = this.memory.get(match.id);
      if (pattern) matches.push({ ...match, pattern });
    }
    return matches;
  }

  /** Applies journal events committed since the last search; reloads everything if they were compacted away. */
  async catchUp(): Promise<void> {
    if (this.memory.lastSeq() === this.applied) return;
    try {
      for await (const event of this.memory.replay({ from: this.applied + 1 })) {
        apply(this.index, event);
        this.applied = event.seq;
      }
    } catch (error) {
      if (!(error instanceof JournalError && error.code === 'JOURNAL_COMPACTED')) throw error;
      for (const id of [...this.index.ids()]) this.index.remove(id);
      this.applied = loadAll(this.memory, this.index).applied;
    }
  }

  /** Saves the HNSW graph beside the memory, so the next open loads it instead of rebuilding. */
  async save(): Promise<boolean> {
    await this.index.whenIndexed();
    fs.mkdirSync(path.dirname(this.graphPath), { recursive: true });
    return this.index.saveHnsw(this.graphPath);
  }

  async close(): Promise<void> {
    await this.save();
    this.index.close();
  }
}

function loadAll(memory: PatternMemory, index: VectorIndex): { applied: number; ignored: number } {
  const applied = memory.lastSeq();
  let ignored = 0;
  for (const pattern of memory.iterate()) if (!indexPattern(index, pattern)) ignored++;
  return { applied, ignored };
}

/** Indexes the pattern, unless its embedding is all zeros (see `SearchOpenReport.ignored`); says whether it did. */
function indexPattern(index: VectorIndex, pattern: Pattern): boolean {
  if (isZeroVector(pattern.embedding)) {
    index.remove(pattern.id);
    return false;
  }
  index.upsert(pattern.id, pattern.embedding, facetsOf(pattern));
  return true;
}

function apply(index: VectorIndex, event: JournalEvent): void {
  switch (event.type) {
    case 'upsert':
    case 'import':
      indexPattern(index, event.pattern);
      return;
    case 'merge':
      for (const id of event.sources) index.remove(id);
      indexPattern(index, event.pattern);
      return;
    case 'evict':
    case 'delete':
      index.remove(event.id);
      return;
    case 'consolidate':
    case 'exemplars':
      // Neither changes an embedding or any facet the index filters on.
      return;
  }
}

function facetsOf(pattern: Pattern) {
  return { tags: pattern.tags, label: pattern.outcome, confidence: pattern.confidence };
}
