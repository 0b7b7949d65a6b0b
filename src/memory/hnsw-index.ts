import { readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { VectorIndexError } from './exact-index.js';

/**
 * An HNSW graph over unit vectors, on the native `usearch` package, keyed by
 * string ids. usearch keys are integers, so each id gets a key from a counter;
 * keys are never reused for another id, so a stale key can never name the
 * wrong pattern.
 */

export type UsearchModule = Pick<typeof import('usearch'), 'Index' | 'MetricKind' | 'ScalarKind'>;
export type UsearchLoader = () => Promise<UsearchModule>;

/**
 * Loads the CommonJS build: the ESM build finds its native binary by walking up
 * from a path guessed from the caller's stack trace, which recurses until the
 * stack overflows when the caller is an eval (`tsx -e`); the CommonJS build
 * starts from its own `__dirname`.
 */
export const loadUsearch: UsearchLoader = async () => createRequire(import.meta.url)('usearch') as UsearchModule;

export interface HnswSettings {
  /** Graph degree (usearch `connectivity`). */
  readonly connectivity: number;
  /** Beam width while inserting (usearch `expansion_add`). */
  readonly expansionAdd: number;
  /** Beam width while searching (usearch `expansion_search`). */
  readonly expansionSearch: number;
}

const SIDECAR_FORMAT = 'swarmbank-hnsw/2';

/**
 * Every add uses the same thread count: usearch sizes its per-thread contexts
 * only when an add grows the capacity, so a batch with more threads than the
 * last growth reserved fails with "Reserve capacity ahead of insertions!".
 */
const ADD_THREADS = availableParallelism();

interface Sidecar {
  readonly format: typeof SIDECAR_FORMAT;
  readonly dimensions: number;
  readonly indexBytes: number;
  readonly nextKey: number;
  /** Tombstoned keys the graph file still holds. */
  readonly dead: number;
  readonly ids: string[];
  readonly keys: number[];
  /** `vectorHash` of each id's unit vector when saved, to spot vectors changed since. */
  readonly hashes: number[];
}

type NativeIndex = InstanceType<UsearchModule['Index']>;

export class HnswIndex {
  private readonly keyOf = new Map<string, number>();
  private readonly idOf = new Map<number, string>();
  private nextKey = 0;
  private dead = 0;

  private constructor(
    private readonly native: NativeIndex,
    readonly dimensions: number,
  ) {}

  static create(usearch: UsearchModule, dimensions: number, settings: HnswSettings): HnswIndex {
    return new HnswIndex(newNative(usearch, dimensions, settings), dimensions);
  }

  /**
   * Loads a saved graph and its id map. Returns the index with the hash of
   * every id's vector at save time, for the caller to reconcile with the
   * vectors it holds now.
   */
  static load(
    usearch: UsearchModule,
    dimensions: number,
    settings: HnswSettings,
    path: string,
  ): { index: HnswIndex; savedHashes: Map<string, number> } {
    const sidecar = readSidecar(path, dimensions);
    const native = newNative(usearch, dimensions, settings);
    try {
      native.load(path);
    } catch (error) {
      throw new VectorIndexError('INDEX_FILE_INVALID', `usearch could not load ${path}`, { cause: error });
    }
    if (native.dimensions() !== dimensions || native.size() !== sidecar.ids.length + sidecar.dead) {
      throw new VectorIndexError(
        'INDEX_FILE_INVALID',
        `${path} holds ${native.size()} vectors of ${native.dimensions()} dimensions, its id map ${sidecar.ids.length} (+${sidecar.dead} deleted) of ${dimensions}`,
      );
    }
    const index = new HnswIndex(native, dimensions);
    const savedHashes = new Map<string, number>();
    sidecar.ids.forEach((id, i) => {
      const key = sidecar.keys[i]!;
      index.keyOf.set(id, key);
      index.idOf.set(key, id);
      savedHashes.set(id, sidecar.hashes[i]!);
    });
    index.nextKey = sidecar.nextKey;
    index.dead = sidecar.dead;
    return { index, savedHashes };
  }

  get size(): number {
    return this.keyOf.size;
  }

  has(id: string): boolean {
    return this.keyOf.has(id);
  }

  /** Adds or replaces the vectors of `ids`; `vectorOf` gives each one's unit vector. */
  setMany(ids: readonly string[], vectorOf: (id: string) => Float32Array): void {
    if (ids.length === 0) return;
    for (const id of ids) this.delete(id);
    const keys = new BigUint64Array(ids.length);
    const vectors = new Float32Array(ids.length * this.dimensions);
    ids.forEach((id, i) => {
      keys[i] = BigInt(this.nextKey + i);
      vectors.set(vectorOf(id), i * this.dimensions);
    });
    this.native.add(keys, vectors, ADD_THREADS);
    ids.forEach((id, i) => {
      this.keyOf.set(id, this.nextKey + i);
      this.idOf.set(this.nextKey + i, id);
    });
    this.nextKey += ids.length;
  }

  /**
   * Forgets an id. Its key stays in the native graph as a tombstone, skipped
   * by search, because usearch 2.25's `remove()` spins forever after a few
   * dozen remove/add cycles on one graph; the owner rebuilds the graph once
   * tombstones pile up (see `deadCount`).
   */
  delete(id: string): boolean {
    const key = this.keyOf.get(id);
    if (key === undefined) return false;
    this.keyOf.delete(id);
    this.idOf.delete(key);
    this.dead++;
    return true;
  }

  /** Keys still in the graph whose ids were deleted or replaced. */
  get deadCount(): number {
    return this.dead;
  }

  ids(): IterableIterator<string> {
    return this.keyOf.keys();
  }

  /** Ids of the approximate nearest neighbours, nearest first. */
  search(unitQuery: Float32Array, k: number): string[] {
    if (this.keyOf.size === 0) return [];
    // One query gains nothing from threads, and spawning them costs more than the search.
    // Ask past the tombstones, so that k live ids come back.
    const matches = this.native.search(unitQuery, Math.min(k + this.dead, this.keyOf.size + this.dead), 1);
    const ids: string[] = [];
    for (const key of matches.keys) {
      const id = this.idOf.get(Number(key));
      if (id !== undefined && ids.push(id) === k) break;
    }
    return ids;
  }

  /**
   * Writes the graph to `path` and the id map beside it (`path.ids.json`),
   * each through a temporary file and a rename, so a crash mid-save leaves
   * either the old pair or a pair whose sizes disagree, which `load` refuses.
   */
  save(path: string, hashOf: (id: string) => number): void {
    const suffix = `.tmp-${process.pid}-${Date.now()}`;
    const ids = [...this.keyOf.keys()];
    try {
      this.native.save(path + suffix);
      const sidecar: Sidecar = {
        format: SIDECAR_FORMAT,
        dimensions: this.dimensions,
        indexBytes: statSync(path + suffix).size,
        nextKey: this.nextKey,
        dead: this.dead,
        ids,
        keys: ids.map((id) => this.keyOf.get(id)!),
        hashes: ids.map(hashOf),
      };
      writeFileSync(sidecarPath(path) + suffix, JSON.stringify(sidecar));
      renameSync(path + suffix, path);
      renameSync(sidecarPath(path) + suffix, sidecarPath(path));
    } catch (error) {
      throw new VectorIndexError('INDEX_SAVE_FAILED', `cannot save the HNSW index to ${path}`, { cause: error });
    } finally {
      rmSync(path + suffix, { force: true });
      rmSync(sidecarPath(path) + suffix, { force: true });
    }
  }
}

export function sidecarPath(path: string): string {
  return `${path}.ids.json`;
}

/** FNV-1a over the float bits: equal vectors hash equal, bit for bit. */
export function vectorHash(vector: Float32Array): number {
  const words = new Uint32Array(vector.buffer, vector.byteOffset, vector.length);
  let hash = 0x811c9dc5;
  for (let i = 0; i < words.length; i++) hash = Math.imul(hash ^ words[i]!, 0x01000193);
  return hash >>> 0;
}

function newNative(usearch: UsearchModule, dimensions: number, settings: HnswSettings): NativeIndex {
  return new usearch.Index({
    dimensions,
    // Vectors arrive normalised, so inner product is the cosine without a norm per comparison.
    metric: usearch.MetricKind.IP,
    // Our own per-vector-scale quantization lives in quantization.ts; usearch's `i8` uses one fixed scale.
    quantization: usearch.ScalarKind.F32,
    connectivity: settings.connectivity,
    expansion_add: settings.expansionAdd,
    expansion_search: settings.expansionSearch,
    multi: false,
  });
}

function readSidecar(path: string, dimensions: number): Sidecar {
  let parsed: unknown;
  let indexBytes: number;
  try {
    parsed = JSON.parse(readFileSync(sidecarPath(path), 'utf8'));
    indexBytes = statSync(path).size;
  } catch (error) {
    throw new VectorIndexError('INDEX_FILE_INVALID', `cannot read ${path} and its id map`, { cause: error });
  }
  if (!isSidecar(parsed)) {
    throw new VectorIndexError('INDEX_FILE_INVALID', `${sidecarPath(path)} is not a ${SIDECAR_FORMAT} id map`);
  }
  if (parsed.dimensions !== dimensions) {
    throw new VectorIndexError('INDEX_FILE_INVALID', `${path} has ${parsed.dimensions} dimensions, expected ${dimensions}`);
  }
  if (parsed.indexBytes !== indexBytes) {
    throw new VectorIndexError(
      'INDEX_FILE_INVALID',
      `${path} is ${indexBytes} bytes but its id map was saved with ${parsed.indexBytes}`,
    );
  }
  return parsed;
}

function isSidecar(value: unknown): value is Sidecar {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  const { ids, keys, hashes } = v;
  return (
    v['format'] === SIDECAR_FORMAT &&
    typeof v['dimensions'] === 'number' &&
    typeof v['indexBytes'] === 'number' &&
    Number.isSafeInteger(v['nextKey']) &&
    Number.isSafeInteger(v['dead']) &&
    (v['dead'] as number) >= 0 &&
    Array.isArray(ids) &&
    Array.isArray(keys) &&
    Array.isArray(hashes) &&
    ids.length === keys.length &&
    ids.length === hashes.length &&
    ids.every((id) => typeof id === 'string') &&
    new Set(ids).size === ids.length &&
    keys.every((key) => Number.isSafeInteger(key) && key >= 0 && key < (v['nextKey'] as number)) &&
    hashes.every((hash) => Number.isInteger(hash))
  );
}
