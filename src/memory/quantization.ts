import {
  SlotTable,
  TopK,
  VectorIndexError,
  assertDimensions,
  assertK,
  byScoreThenId,
  grownCapacity,
  toUnitVector,
  type IdFilter,
  type VectorMatch,
} from './exact-index.js';

/**
 * Scalar quantization with one scale per vector. A scale shared by all vectors
 * (as in usearch's own `i8`) wastes most of the code range on vectors whose
 * largest component is small; per-vector scales keep every vector's full range.
 *
 * int8: codes in [-127, 127], one byte per dimension (4× smaller than float32).
 * int4: codes in [-7, 7] stored as nibble + 8, two dimensions per byte (8×).
 */
export type QuantizationKind = 'int8' | 'int4';

export interface QuantizedVector {
  readonly kind: QuantizationKind;
  /** Int8Array for int8; packed nibbles (low nibble first) for int4. */
  readonly codes: Int8Array | Uint8Array;
  /** value ≈ code × scale. */
  readonly scale: number;
}

const LEVELS: Record<QuantizationKind, number> = { int8: 127, int4: 7 };

/**
 * Queries are quantized finer than the stored vectors, still to integers: at
 * int8 precision the query's own rounding costs about a point of recall@10,
 * and the query is one vector, so its size does not matter. int4 queries stop
 * at 12 bits so every entry of its lookup table fits an Int16Array.
 */
const QUERY_LEVELS: Record<QuantizationKind, number> = { int8: 32767, int4: 2047 };
const NIBBLE_ZERO = 8;

export function codeBytes(kind: QuantizationKind, dimensions: number): number {
  return kind === 'int8' ? dimensions : Math.ceil(dimensions / 2);
}

export function quantize(vector: ArrayLike<number>, kind: QuantizationKind): QuantizedVector {
  assertDimensions(vector.length);
  const levels = LEVELS[kind];
  let maxAbs = 0;
  for (let i = 0; i < vector.length; i++) {
    const x = vector[i]!;
    if (!Number.isFinite(x)) {
      throw new VectorIndexError('NON_FINITE_VALUE', `vector has a non-finite value (${x}) at position ${i}`);
    }
    maxAbs = Math.max(maxAbs, Math.abs(x));
  }
  const scale = maxAbs === 0 ? 1 : maxAbs / levels;
  if (kind === 'int8') {
    const codes = new Int8Array(vector.length);
    for (let i = 0; i < vector.length; i++) codes[i] = Math.round(vector[i]! / scale);
    return { kind, codes, scale };
  }
  const codes = new Uint8Array(codeBytes(kind, vector.length)).fill(NIBBLE_ZERO | (NIBBLE_ZERO << 4));
  for (let i = 0; i < vector.length; i++) {
    const nibble = Math.round(vector[i]! / scale) + NIBBLE_ZERO;
    const byte = i >> 1;
    codes[byte] = i & 1 ? (codes[byte]! & 0x0f) | (nibble << 4) : (codes[byte]! & 0xf0) | nibble;
  }
  return { kind, codes, scale };
}

export function dequantize(quantized: QuantizedVector, dimensions: number): Float32Array {
  const { codes, scale } = quantized;
  const out = new Float32Array(dimensions);
  if (quantized.kind === 'int8') {
    for (let i = 0; i < dimensions; i++) out[i] = codes[i]! * scale;
    return out;
  }
  for (let i = 0; i < dimensions; i++) {
    const byte = codes[i >> 1]!;
    out[i] = ((i & 1 ? byte >> 4 : byte & 0x0f) - NIBBLE_ZERO) * scale;
  }
  return out;
}

export interface QuantizedIndexOptions {
  readonly dimensions: number;
  readonly kind: QuantizationKind;
  /**
   * Where float re-ranking gets full-precision vectors (the pattern store,
   * say), so the index itself holds only codes.
   */
  readonly fetchVector?: (id: string) => ArrayLike<number> | undefined;
  readonly initialCapacity?: number;
}

export interface QuantizedSearchOptions {
  readonly filter?: IdFilter;
  /**
   * Re-rank this many times k candidates by their float vectors. Requires
   * `fetchVector`; a candidate whose float vector is gone keeps its code score.
   */
  readonly rerank?: number;
}

/**
 * Exact top-k over quantized codes: integer dot products between the query's
 * codes and each stored vector's codes. Vectors are normalised before
 * quantization, and each slot keeps 1 / |codes| so the integer dot becomes a
 * cosine against the dequantized direction, unaffected by rounding of the norm.
 */
export class QuantizedIndex {
  readonly dimensions: number;
  readonly kind: QuantizationKind;
  private readonly stride: number;
  private readonly fetchVector: ((id: string) => ArrayLike<number> | undefined) | undefined;
  private readonly table = new SlotTable();
  private codes: Int8Array | Uint8Array;
  private inverseNorms: Float32Array;

  constructor(options: QuantizedIndexOptions) {
    assertDimensions(options.dimensions);
    if (options.kind !== 'int8' && options.kind !== 'int4') {
      throw new VectorIndexError('INVALID_OPTION', `unknown quantization kind '${String(options.kind)}'`);
    }
    this.dimensions = options.dimensions;
    this.kind = options.kind;
    this.stride = codeBytes(options.kind, options.dimensions);
    this.fetchVector = options.fetchVector;
    const capacity = Math.max(1, options.initialCapacity ?? 1024);
    this.codes = this.kind === 'int8' ? new Int8Array(capacity * this.stride) : new Uint8Array(capacity * this.stride);
    this.inverseNorms = new Float32Array(capacity);
  }

  get size(): number {
    return this.table.size;
  }

  /** Bytes held for vectors: codes plus one float per vector. */
  get vectorBytes(): number {
    return this.table.size * (this.stride + 4);
  }

  has(id: string): boolean {
    return this.table.slot(id) !== undefined;
  }

  upsert(id: string, vector: ArrayLike<number>): void {
    const quantized = quantize(toUnitVector(vector, this.dimensions, `vector for '${id}'`), this.kind);
    const norm = Math.sqrt(squaredNorm(quantized, this.dimensions));
    if (this.table.slot(id) === undefined && this.table.size + 1 > this.inverseNorms.length) this.grow();
    const slot = this.table.claim(id);
    this.codes.set(quantized.codes, slot * this.stride);
    this.inverseNorms[slot] = 1 / norm;
  }

  remove(id: string): boolean {
    const freed = this.table.release(id);
    if (freed === undefined) return false;
    if (freed.hole !== freed.moved) {
      this.codes.copyWithin(freed.hole * this.stride, freed.moved * this.stride, (freed.moved + 1) * this.stride);
      this.inverseNorms[freed.hole] = this.inverseNorms[freed.moved]!;
    }
    return true;
  }

  search(query: ArrayLike<number>, k: number, options: QuantizedSearchOptions = {}): VectorMatch[] {
    assertK(k);
    const rerank = options.rerank;
    if (rerank !== undefined && (!Number.isFinite(rerank) || rerank < 1)) {
      throw new VectorIndexError('INVALID_OPTION', `rerank must be a number ≥ 1, got ${rerank}`);
    }
    if (rerank !== undefined && this.fetchVector === undefined) {
      throw new VectorIndexError('INVALID_OPTION', 'rerank needs a fetchVector option to read float vectors');
    }
    const unitQuery = toUnitVector(query, this.dimensions, 'query');
    const queryCodes = quantizeQuery(unitQuery, QUERY_LEVELS[this.kind]);
    let queryNorm = 0;
    for (const code of queryCodes) queryNorm += code * code;
    const queryScale = 1 / Math.sqrt(queryNorm);
    const wanted = rerank === undefined ? k : Math.ceil(k * rerank);
    const top = new TopK(wanted);
    if (this.kind === 'int8') this.scanInt8(queryCodes, top, options.filter);
    else this.scanInt4(queryCodes, top, options.filter);
    const candidates = top
      .entries()
      .map(({ slot, score }) => ({ id: this.table.id(slot), score: score * queryScale }));
    if (rerank !== undefined) {
      for (const candidate of candidates) {
        const vector = this.fetchVector!(candidate.id);
        if (vector !== undefined) candidate.score = cosine(unitQuery, vector);
      }
    }
    return candidates.sort(byScoreThenId).slice(0, k);
  }

  private scanInt8(queryCodes: Int16Array, top: TopK, filter: IdFilter | undefined): void {
    const codes = this.codes as Int8Array;
    const { inverseNorms, table, dimensions: d } = this;
    const tail = d & ~3;
    for (let slot = 0, base = 0; slot < table.size; slot++, base += d) {
      let a0 = 0;
      let a1 = 0;
      let a2 = 0;
      let a3 = 0;
      let j = 0;
      for (; j < tail; j += 4) {
        a0 += queryCodes[j]! * codes[base + j]!;
        a1 += queryCodes[j + 1]! * codes[base + j + 1]!;
        a2 += queryCodes[j + 2]! * codes[base + j + 2]!;
        a3 += queryCodes[j + 3]! * codes[base + j + 3]!;
      }
      for (; j < d; j++) a0 += queryCodes[j]! * codes[base + j]!;
      const score = (a0 + a1 + a2 + a3) * inverseNorms[slot]!;
      if (score > top.floor && (filter === undefined || filter(table.id(slot)))) top.offer(score, slot);
    }
  }

  /**
   * Per query, a table holds for every byte position and every byte value the
   * dot product of that byte's two nibbles with the query's two codes, so the
   * scan does one lookup and one add per two dimensions.
   */
  private scanInt4(queryCodes: Int16Array, top: TopK, filter: IdFilter | undefined): void {
    const codes = this.codes as Uint8Array;
    const { inverseNorms, table, stride } = this;
    const lookup = new Int16Array(stride * 256);
    for (let position = 0; position < stride; position++) {
      const low = queryCodes[2 * position]!;
      const high = queryCodes[2 * position + 1] ?? 0;
      for (let byte = 0; byte < 256; byte++) {
        lookup[position * 256 + byte] = low * ((byte & 0x0f) - NIBBLE_ZERO) + high * ((byte >> 4) - NIBBLE_ZERO);
      }
    }
    const tail = stride & ~1;
    for (let slot = 0, base = 0; slot < table.size; slot++, base += stride) {
      let a0 = 0;
      let a1 = 0;
      let position = 0;
      for (; position < tail; position += 2) {
        a0 += lookup[(position << 8) + codes[base + position]!]!;
        a1 += lookup[((position + 1) << 8) + codes[base + position + 1]!]!;
      }
      if (position < stride) a0 += lookup[(position << 8) + codes[base + position]!]!;
      const score = (a0 + a1) * inverseNorms[slot]!;
      if (score > top.floor && (filter === undefined || filter(table.id(slot)))) top.offer(score, slot);
    }
  }

  private grow(): void {
    const capacity = grownCapacity(this.inverseNorms.length, this.table.size + 1);
    const codes = this.kind === 'int8' ? new Int8Array(capacity * this.stride) : new Uint8Array(capacity * this.stride);
    codes.set(this.codes.subarray(0, this.table.size * this.stride));
    const inverseNorms = new Float32Array(capacity);
    inverseNorms.set(this.inverseNorms.subarray(0, this.table.size));
    this.codes = codes;
    this.inverseNorms = inverseNorms;
  }
}

function quantizeQuery(unitQuery: Float32Array, levels: number): Int16Array {
  let maxAbs = 0;
  for (const x of unitQuery) maxAbs = Math.max(maxAbs, Math.abs(x));
  return Int16Array.from(unitQuery, (x) => Math.round((x / maxAbs) * levels));
}

function squaredNorm(quantized: QuantizedVector, dimensions: number): number {
  const { codes } = quantized;
  let sum = 0;
  if (quantized.kind === 'int8') {
    for (let i = 0; i < dimensions; i++) sum += codes[i]! * codes[i]!;
    return sum;
  }
  for (let i = 0; i < dimensions; i++) {
    const byte = codes[i >> 1]!;
    const code = (i & 1 ? byte >> 4 : byte & 0x0f) - NIBBLE_ZERO;
    sum += code * code;
  }
  return sum;
}

function cosine(unitQuery: Float32Array, vector: ArrayLike<number>): number {
  let dot = 0;
  let norm = 0;
  for (let i = 0; i < unitQuery.length; i++) {
    const x = vector[i] ?? 0;
    dot += unitQuery[i]! * x;
    norm += x * x;
  }
  return norm === 0 ? 0 : dot / Math.sqrt(norm);
}
