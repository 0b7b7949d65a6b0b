import { existsSync } from 'node:fs';
import {
  ExactIndex,
  VectorIndexError,
  assertDimensions,
  assertK,
  byScoreThenId,
  toUnitVector,
  type IdFilter,
  type VectorMatch,
} from './exact-index.js';
import { HnswIndex, loadUsearch, vectorHash, type HnswSettings, type UsearchLoader, type UsearchModule } from './hnsw-index.js';
import { assertLambda, mmrRerank } from './mmr.js';

export { VectorIndexError, type VectorIndexErrorCode, type VectorMatch, type IdFilter } from './exact-index.js';
export type { UsearchLoader, UsearchModule } from './hnsw-index.js';

/**
 * Top-k cosine search over a pattern memory's embeddings. Exact search over
 * one contiguous array always holds every vector and answers when the memory
 * is small, while an HNSW graph (usearch) is built or loaded, or when usearch
 * is missing; above `hnsw.threshold` vectors the graph answers, and its
 * candidates are re-scored against the exact vectors so scores are identical
 * whichever path answered.
 */

export interface HnswOptions extends HnswSettings {
  /**
   * Below this many vectors exact search answers (it is fast enough there and
   * exact), and no graph is built until the memory reaches it.
   */
  readonly threshold: number;
  /** With a filter, ask the graph for k × overfetch and filter those. */
  readonly overfetch: number;
  /** Vectors added per event-loop turn while building in the background. */
  readonly buildChunk: number;
}

export const defaultHnswOptions: HnswOptions = {
  threshold: 10_000,
  connectivity: 16,
  expansionAdd: 64,
  expansionSearch: 64,
  overfetch: 8,
  buildChunk: 512,
};

const PATCH_LIMIT = 1000;
const TOMBSTONE_REBUILD_MIN = 64;
const PATCH_LIMIT_FRACTION = 0.25;

export interface VectorIndexOptions {
  readonly dimensions: number;
  /** `false` keeps exact search only. */
  readonly hnsw?: false | Partial<HnswOptions>;
  /** Replaceable so tests can simulate a missing native package. */
  readonly loadUsearch?: UsearchLoader;
  /** Told once why HNSW is unavailable; defaults to `process.emitWarning`. */
  readonly onWarning?: (message: string) => void;
  readonly initialCapacity?: number;
}

/** What filters can ask of a pattern without the index reading the store. */
export interface PatternFacets {
  readonly tags?: readonly string[];
  /** The outcome the pattern predicts. */
  readonly label?: string;
  readonly confidence?: number;
}

export interface SearchOptions {
  readonly filter?: IdFilter;
  /** Every listed tag must be present. */
  readonly tags?: readonly string[];
  readonly label?: string;
  readonly minConfidence?: number;
  /** Re-rank `candidates` (default 4k) relevant matches for diversity. */
  readonly mmr?: { readonly lambda: number; readonly candidates?: number };
  /** Skip the graph, e.g. to measure recall against it. */
  readonly exact?: boolean;
}

export type HnswState = 'disabled' | 'unavailable' | 'idle' | 'building' | 'ready';

export interface HnswLoadReport {
  readonly outcome: 'loaded' | 'missing' | 'invalid' | 'unavailable' | 'disabled';
  readonly reason?: string;
  /** Vectors patched in: new since the save, changed since, and deleted since. */
  readonly added: number;
  readonly updated: number;
  readonly removed: number;
  readonly milliseconds: number;
}

export class VectorIndex {
  readonly dimensions: number;
  readonly stats = { exactSearches: 0, hnswSearches: 0, exactFallbacks: 0 };
  private readonly exact: ExactIndex;
  private readonly facets = new Map<string, PatternFacets>();
  private readonly hnswOptions: HnswOptions | undefined;
  private readonly onWarning: (message: string) => void;
  private usearch: UsearchModule | undefined;
  private hnsw: HnswIndex | undefined;
  private pending: HnswIndex | undefined;
  private building: Promise<void> | undefined;
  /** Bumped to cancel a background build. */
  private generation = 0;
  private closed = false;
  private reason: string | undefined;

  static async open(options: VectorIndexOptions): Promise<VectorIndex> {
    const index = new VectorIndex(options);
    if (index.hnswOptions !== undefined) {
      try {
        index.usearch = await (options.loadUsearch ?? loadUsearch)();
      } catch (error) {
        index.disableHnsw(`usearch failed to load (${describe(error)})`);
      }
    }
    return index;
  }

  private constructor(options: VectorIndexOptions) {
    assertDimensions(options.dimensions);
    this.dimensions = options.dimensions;
    this.exact = new ExactIndex(options.dimensions, options.initialCapacity);
    this.hnswOptions = options.hnsw === false ? undefined : validHnswOptions({ ...defaultHnswOptions, ...options.hnsw });
    this.onWarning =
      options.onWarning ?? ((message) => process.emitWarning(message, { code: 'SWARMBANK_VECTOR_INDEX' }));
  }

  get size(): number {
    return this.exact.size;
  }

  get hnswState(): HnswState {
    if (this.hnswOptions === undefined) return 'disabled';
    if (this.usearch === undefined) return 'unavailable';
    if (this.hnsw !== undefined) return 'ready';
    return this.pending !== undefined ? 'building' : 'idle';
  }

  /** Why the index serves exact search only, once HNSW has failed. */
  get fallbackReason(): string | undefined {
    return this.reason;
  }

  /** Every indexed id. */
  ids(): IterableIterator<string> {
    return this.exact.ids();
  }

  has(id: string): boolean {
    return this.exact.has(id);
  }

  upsert(id: string, vector: ArrayLike<number>, facets?: PatternFacets): void {
    if (facets !== undefined) assertFacets(id, facets);
    const unit = this.exact.upsert(id, vector);
    if (facets !== undefined) this.facets.set(id, facets);
    const graph = this.hnsw;
    if (graph !== undefined) this.guard(() => graph.setMany([id], () => unit));
    // A graph still being built gets only ids it already holds; the build
    // loop adds the others in batches, which is far cheaper than one by one.
    const pending = this.pending;
    if (pending?.has(id) === true) this.guard(() => pending.setMany([id], () => unit));
    this.startBuildIfDue();
  }

  /** Replaces a pattern's facets (confidence moves often, its vector less so). */
  setFacets(id: string, facets: PatternFacets): boolean {
    assertFacets(id, facets);
    if (!this.exact.has(id)) return false;
    this.facets.set(id, facets);
    return true;
  }

  remove(id: string): boolean {
    if (!this.exact.remove(id)) return false;
    this.facets.delete(id);
    const graph = this.hnsw;
    if (graph !== undefined) this.guard(() => graph.delete(id));
    const pending = this.pending;
    if (pending !== undefined) this.guard(() => pending.delete(id));
    this.startBuildIfDue();
    return true;
  }

  search(query: ArrayLike<number>, k: number, options: SearchOptions = {}): VectorMatch[] {
    assertK(k);
    const unit = toUnitVector(query, this.dimensions, 'query');
    const predicate = this.predicate(options);
    if (options.mmr === undefined) return this.topK(unit, k, predicate, options.exact === true);
    const { lambda, candidates = 4 * k } = options.mmr;
    assertLambda(lambda);
    if (!Number.isInteger(candidates) || candidates < k) {
      throw new VectorIndexError('INVALID_OPTION', `MMR candidates must be an integer ≥ k (${k}), got ${candidates}`);
    }
    const relevant = this.topK(unit, candidates, predicate, options.exact === true);
    return mmrRerank(
      relevant.map((match) => ({ ...match, vector: this.exact.view(match.id)! })),
      k,
      lambda,
    );
  }

  /** Resolves when no background build is running. */
  whenIndexed(): Promise<void> {
    return this.building ?? Promise.resolve();
  }

  /**
   * Saves the graph beside the memory. Returns false when there is no ready
   * graph to save (below the threshold, still building, or no usearch).
   */
  saveHnsw(path: string): boolean {
    const graph = this.hnsw;
    if (graph === undefined) return false;
    graph.save(path, (id) => vectorHash(this.exact.view(id)!));
    return true;
  }

  /**
   * Loads a graph saved by `saveHnsw` and reconciles it with the vectors held
   * now: ids added, changed or deleted since the save are patched into the
   * graph rather than rebuilding it. Call after the memory's vectors are
   * upserted. A missing or invalid file, or one too far out of date, starts
   * a background build instead.
   */
  loadHnsw(path: string): HnswLoadReport {
    const started = performance.now();
    const report = (outcome: HnswLoadReport['outcome'], reason?: string, counts = { added: 0, updated: 0, removed: 0 }) => ({
      outcome,
      ...(reason === undefined ? {} : { reason }),
      ...counts,
      milliseconds: performance.now() - started,
    });
    if (this.hnswOptions === undefined) return report('disabled');
    if (this.usearch === undefined) return report('unavailable', this.reason);
    if (!existsSync(path)) {
      this.startBuildIfDue();
      return report('missing');
    }
    let loaded: ReturnType<typeof HnswIndex.load>;
    try {
      loaded = HnswIndex.load(this.usearch, this.dimensions, this.hnswOptions, path);
    } catch (error) {
      this.startBuildIfDue();
      return report('invalid', describe(error));
    }
    const { index: graph, savedHashes } = loaded;
    this.cancelBuild();
    const stale: string[] = [];
    let added = 0;
    for (const id of this.exact.ids()) {
      const saved = savedHashes.get(id);
      if (saved === undefined) added++;
      else if (saved === vectorHash(this.exact.view(id)!)) continue;
      stale.push(id);
    }
    const deleted = [...graph.ids()].filter((id) => !this.exact.has(id));
    // Patching goes one synchronous batch; past this much change a background
    // rebuild costs about as much and keeps the event loop free meanwhile.
    if (stale.length + deleted.length > Math.max(PATCH_LIMIT, this.exact.size * PATCH_LIMIT_FRACTION)) {
      this.startBuildIfDue();
      return report('invalid', `${stale.length + deleted.length} of ${this.exact.size} vectors changed since the save`);
    }
    const patched = this.guard(() => {
      for (const id of deleted) graph.delete(id);
      graph.setMany(stale, (id) => this.exact.view(id)!);
    });
    if (!patched) return report('unavailable', this.reason);
    this.hnsw = graph;
    return report('loaded', undefined, { added, updated: stale.length - added, removed: deleted.length });
  }

  /** Stops any background build; the exact index keeps answering. */
  close(): void {
    this.closed = true;
    this.cancelBuild();
  }

  private topK(unit: Float32Array, k: number, predicate: IdFilter | undefined, exactOnly: boolean): VectorMatch[] {
    const graph = this.hnsw;
    let candidates: string[] = [];
    if (
      !exactOnly &&
      graph !== undefined &&
      this.exact.size >= this.hnswOptions!.threshold &&
      this.guard(() => (candidates = graph.search(unit, predicate === undefined ? k : k * this.hnswOptions!.overfetch)))
    ) {
      const matches: VectorMatch[] = [];
      for (const id of candidates) {
        if (predicate === undefined || predicate(id)) matches.push({ id, score: this.exact.score(id, unit)! });
      }
      if (matches.length >= Math.min(k, this.exact.size)) {
        this.stats.hnswSearches++;
        return matches.sort(byScoreThenId).slice(0, k);
      }
      // Too few candidates passed the filter: only a full scan can tell
      // whether more matching patterns exist.
      this.stats.exactFallbacks++;
    }
    this.stats.exactSearches++;
    return this.exact.searchUnit(unit, k, predicate);
  }

  private predicate(options: SearchOptions): IdFilter | undefined {
    const { filter, tags, label, minConfidence } = options;
    if (minConfidence !== undefined && !Number.isFinite(minConfidence)) {
      throw new VectorIndexError('INVALID_OPTION', `minConfidence must be a finite number, got ${minConfidence}`);
    }
    const needsFacets = (tags !== undefined && tags.length > 0) || label !== undefined || minConfidence !== undefined;
    if (!needsFacets) return filter;
    return (id) => {
      const facets = this.facets.get(id);
      if (facets === undefined) return false;
      if (label !== undefined && facets.label !== label) return false;
      if (minConfidence !== undefined && !((facets.confidence ?? -Infinity) >= minConfidence)) return false;
      if (tags !== undefined && !tags.every((tag) => facets.tags?.includes(tag) === true)) return false;
      return filter === undefined || filter(id);
    };
  }

  private startBuildIfDue(): void {
    const usearch = this.usearch;
    const options = this.hnswOptions;
    if (usearch === undefined || options === undefined || this.closed) return;
    if (this.pending !== undefined || this.exact.size < options.threshold) return;
    // A live graph is replaced only once replaced and deleted vectors (tombstones) make a quarter of it;
    // it keeps answering while its successor builds.
    const live = this.hnsw;
    if (live !== undefined && live.deadCount < Math.max(TOMBSTONE_REBUILD_MIN, live.size / 4)) return;
    let graph: HnswIndex | undefined;
    if (!this.guard(() => (graph = HnswIndex.create(usearch, this.dimensions, options)))) return;
    this.pending = graph;
    const generation = ++this.generation;
    this.building = this.build(graph!, generation, options.buildChunk).finally(() => {
      if (this.generation === generation) this.building = undefined;
    });
  }

  /**
   * Adds the vectors in chunks, yielding to the event loop between them, so
   * exact search keeps answering while the graph grows. Each chunk is the
   * next ids the graph lacks, so vectors upserted or deleted meanwhile are
   * picked up or skipped; the graph takes over once it lacks none.
   */
  private async build(graph: HnswIndex, generation: number, chunk: number): Promise<void> {
    let cursor = 0;
    let addedThisPass = false;
    for (;;) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (generation !== this.generation) return;
      const batch: string[] = [];
      for (; cursor < this.exact.size && batch.length < chunk; cursor++) {
        const id = this.exact.idAt(cursor);
        if (!graph.has(id)) batch.push(id);
      }
      if (batch.length === 0) {
        if (!addedThisPass) break;
        // A delete moves the last id into the freed slot, possibly behind the
        // cursor, so the graph is complete only after a pass that adds nothing.
        cursor = 0;
        addedThisPass = false;
        continue;
      }
      addedThisPass = true;
      if (!this.guard(() => graph.setMany(batch, (id) => this.exact.view(id)!))) return;
    }
    this.hnsw = graph;
    this.pending = undefined;
  }

  private cancelBuild(): void {
    this.generation++;
    this.pending = undefined;
    this.building = undefined;
  }

  /** Runs a native graph operation; a failure drops to exact search instead of crashing. */
  private guard(action: () => void): boolean {
    try {
      action();
      return true;
    } catch (error) {
      this.disableHnsw(`usearch failed (${describe(error)})`);
      return false;
    }
  }

  private disableHnsw(reason: string): void {
    this.cancelBuild();
    this.usearch = undefined;
    this.hnsw = undefined;
    if (this.reason !== undefined) return;
    this.reason = reason;
    this.onWarning(`swarmbank vector index: HNSW unavailable, using exact search: ${reason}`);
  }
}

function validHnswOptions(options: HnswOptions): HnswOptions {
  for (const [name, value] of Object.entries(options)) {
    if (!Number.isInteger(value) || (value as number) < (name === 'threshold' ? 0 : 1)) {
      throw new VectorIndexError('INVALID_OPTION', `hnsw.${name} must be a positive integer, got ${String(value)}`);
    }
  }
  return options;
}

function assertFacets(id: string, facets: PatternFacets): void {
  if (facets.confidence !== undefined && !Number.isFinite(facets.confidence)) {
    throw new VectorIndexError('NON_FINITE_VALUE', `confidence of '${id}' is not finite (${facets.confidence})`);
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
