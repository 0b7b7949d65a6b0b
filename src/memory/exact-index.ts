import { SwarmbankError } from '../errors.js';

/**
 * Exact cosine top-k over one contiguous Float32Array of unit vectors, and the
 * pieces every vector index here shares: input validation, the error type, the
 * id↔slot table and top-k selection.
 */

export type VectorIndexErrorCode =
  | 'DIMENSION_MISMATCH'
  | 'NON_FINITE_VALUE'
  | 'ZERO_VECTOR'
  | 'INVALID_K'
  | 'INVALID_OPTION'
  | 'INDEX_FILE_INVALID'
  | 'INDEX_SAVE_FAILED';

export class VectorIndexError extends SwarmbankError {
  declare readonly code: VectorIndexErrorCode;

  constructor(code: VectorIndexErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

export interface VectorMatch {
  readonly id: string;
  /** Cosine similarity to the query, in [-1, 1]. */
  readonly score: number;
}

export type IdFilter = (id: string) => boolean;

/**
 * Validates `vector` and returns it scaled to unit length, so that a dot
 * product is the cosine. `what` names the input in the error message.
 */
export function toUnitVector(vector: ArrayLike<number>, dimensions: number, what: string): Float32Array {
  if (vector.length !== dimensions) {
    throw new VectorIndexError('DIMENSION_MISMATCH', `${what} has ${vector.length} dimensions, expected ${dimensions}`);
  }
  let maxAbs = 0;
  for (let i = 0; i < dimensions; i++) {
    const x = vector[i]!;
    if (!Number.isFinite(x)) {
      throw new VectorIndexError('NON_FINITE_VALUE', `${what} has a non-finite value (${x}) at position ${i}`);
    }
    maxAbs = Math.max(maxAbs, Math.abs(x));
  }
  // A zero vector has no direction, so its cosine with anything is undefined.
  if (maxAbs === 0) throw new VectorIndexError('ZERO_VECTOR', `${what} is all zeros`);
  // Dividing by the largest component first keeps the squares from
  // overflowing (1e200) or underflowing (1e-200) to a useless norm.
  let sum = 0;
  for (let i = 0; i < dimensions; i++) {
    const x = vector[i]! / maxAbs;
    sum += x * x;
  }
  const norm = Math.sqrt(sum);
  const unit = new Float32Array(dimensions);
  for (let i = 0; i < dimensions; i++) unit[i] = vector[i]! / maxAbs / norm;
  return unit;
}

export function assertK(k: number): void {
  if (!Number.isInteger(k) || k <= 0) {
    throw new VectorIndexError('INVALID_K', `k must be a positive integer, got ${k}`);
  }
}

export function assertDimensions(dimensions: number): void {
  if (!Number.isInteger(dimensions) || dimensions <= 0) {
    throw new VectorIndexError('INVALID_OPTION', `dimensions must be a positive integer, got ${dimensions}`);
  }
}

/**
 * Dense slots for ids: removal moves the last slot into the hole, so the live
 * vectors always occupy slots [0, size) and a scan never meets a gap.
 */
export class SlotTable {
  private readonly slotOf = new Map<string, number>();
  private readonly idAt: string[] = [];

  get size(): number {
    return this.idAt.length;
  }

  slot(id: string): number | undefined {
    return this.slotOf.get(id);
  }

  id(slot: number): string {
    return this.idAt[slot]!;
  }

  ids(): IterableIterator<string> {
    return this.idAt.values();
  }

  /** Returns the id's slot, appending a new one when the id is unknown. */
  claim(id: string): number {
    const existing = this.slotOf.get(id);
    if (existing !== undefined) return existing;
    const slot = this.idAt.length;
    this.idAt.push(id);
    this.slotOf.set(id, slot);
    return slot;
  }

  /**
   * Frees the id's slot. Returns the hole and the slot whose data the caller
   * must copy into it (equal when the removed id was last), or undefined.
   */
  release(id: string): { hole: number; moved: number } | undefined {
    const hole = this.slotOf.get(id);
    if (hole === undefined) return undefined;
    const moved = this.idAt.length - 1;
    const last = this.idAt.pop()!;
    this.slotOf.delete(id);
    if (hole !== moved) {
      this.idAt[hole] = last;
      this.slotOf.set(last, hole);
    }
    return { hole, moved };
  }
}

/** Capacity growth by doubling keeps upserts amortised O(dimensions). */
export function grownCapacity(current: number, needed: number): number {
  let capacity = Math.max(current, 16);
  while (capacity < needed) capacity *= 2;
  return capacity;
}

/**
 * The k best (score, slot) pairs seen so far, as a binary min-heap so the
 * weakest kept score is at the root and a scan rejects most rows with one
 * comparison against `floor`.
 */
export class TopK {
  private readonly scores: Float64Array;
  private readonly slots: Int32Array;
  private count = 0;
  /** Scores at or below this cannot enter; -Infinity until the heap is full. */
  floor = -Infinity;

  constructor(private readonly k: number) {
    this.scores = new Float64Array(k);
    this.slots = new Int32Array(k);
  }

  offer(score: number, slot: number): void {
    const { scores, slots, k } = this;
    if (this.count < k) {
      let i = this.count++;
      while (i > 0) {
        const parent = (i - 1) >> 1;
        if (scores[parent]! <= score) break;
        scores[i] = scores[parent]!;
        slots[i] = slots[parent]!;
        i = parent;
      }
      scores[i] = score;
      slots[i] = slot;
      if (this.count === k) this.floor = scores[0]!;
      return;
    }
    if (score <= scores[0]!) return;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= k) break;
      const right = left + 1;
      const child = right < k && scores[right]! < scores[left]! ? right : left;
      if (scores[child]! >= score) break;
      scores[i] = scores[child]!;
      slots[i] = slots[child]!;
      i = child;
    }
    scores[i] = score;
    slots[i] = slot;
    this.floor = scores[0]!;
  }

  /** The kept pairs in heap order; callers sort once they have named them. */
  entries(): Array<{ slot: number; score: number }> {
    const out: Array<{ slot: number; score: number }> = [];
    for (let i = 0; i < this.count; i++) out.push({ slot: this.slots[i]!, score: this.scores[i]! });
    return out;
  }
}

export function byScoreThenId(a: VectorMatch, b: VectorMatch): number {
  return b.score - a.score || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

export class ExactIndex {
  private readonly table = new SlotTable();
  private vectors: Float32Array;

  constructor(
    readonly dimensions: number,
    initialCapacity = 1024,
  ) {
    assertDimensions(dimensions);
    this.vectors = new Float32Array(Math.max(1, initialCapacity) * dimensions);
  }

  get size(): number {
    return this.table.size;
  }

  has(id: string): boolean {
    return this.table.slot(id) !== undefined;
  }

  ids(): IterableIterator<string> {
    return this.table.ids();
  }

  /** The id in `slot`, for walks over [0, size) that tolerate slots moving. */
  idAt(slot: number): string {
    return this.table.id(slot);
  }

  /** Validates and stores the vector scaled to unit length, and returns that. */
  upsert(id: string, vector: ArrayLike<number>): Float32Array {
    const unit = toUnitVector(vector, this.dimensions, `vector for '${id}'`);
    const d = this.dimensions;
    const needed = (this.table.size + 1) * d;
    if (this.table.slot(id) === undefined && needed > this.vectors.length) {
      const grown = new Float32Array(grownCapacity(this.vectors.length / d, this.table.size + 1) * d);
      grown.set(this.vectors.subarray(0, this.table.size * d));
      this.vectors = grown;
    }
    this.vectors.set(unit, this.table.claim(id) * d);
    return unit;
  }

  remove(id: string): boolean {
    const freed = this.table.release(id);
    if (freed === undefined) return false;
    const d = this.dimensions;
    if (freed.hole !== freed.moved) {
      this.vectors.copyWithin(freed.hole * d, freed.moved * d, (freed.moved + 1) * d);
    }
    return true;
  }

  /** The stored unit vector as a view: valid only until the next mutation. */
  view(id: string): Float32Array | undefined {
    const slot = this.table.slot(id);
    if (slot === undefined) return undefined;
    return this.vectors.subarray(slot * this.dimensions, (slot + 1) * this.dimensions);
  }

  /** Cosine between a stored vector and a unit query. */
  score(id: string, unitQuery: Float32Array): number | undefined {
    const slot = this.table.slot(id);
    return slot === undefined ? undefined : dotAt(this.vectors, slot * this.dimensions, unitQuery);
  }

  /** Top-k for a query already scaled to unit length by `toUnitVector`. */
  searchUnit(unitQuery: Float32Array, k: number, filter?: IdFilter): VectorMatch[] {
    const { vectors, dimensions: d, table } = this;
    const n = table.size;
    const top = new TopK(k);
    const tail = d & ~3;
    for (let slot = 0, base = 0; slot < n; slot++, base += d) {
      let a0 = 0;
      let a1 = 0;
      let a2 = 0;
      let a3 = 0;
      let j = 0;
      // Four independent sums let the CPU overlap the multiply-adds.
      for (; j < tail; j += 4) {
        a0 += unitQuery[j]! * vectors[base + j]!;
        a1 += unitQuery[j + 1]! * vectors[base + j + 1]!;
        a2 += unitQuery[j + 2]! * vectors[base + j + 2]!;
        a3 += unitQuery[j + 3]! * vectors[base + j + 3]!;
      }
      for (; j < d; j++) a0 += unitQuery[j]! * vectors[base + j]!;
      const score = a0 + a1 + a2 + a3;
      // The predicate runs only for rows that would enter the top-k, which
      // after the first few hundred rows is a small fraction of the scan.
      if (score > top.floor && (filter === undefined || filter(table.id(slot)))) top.offer(score, slot);
    }
    return top
      .entries()
      .map(({ slot, score }) => ({ id: table.id(slot), score }))
      .sort(byScoreThenId);
  }
}

function dotAt(vectors: Float32Array, base: number, unitQuery: Float32Array): number {
  let sum = 0;
  for (let j = 0; j < unitQuery.length; j++) sum += unitQuery[j]! * vectors[base + j]!;
  return sum;
}
