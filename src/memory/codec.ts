import { Packr } from 'msgpackr';
import { callerEmbeddings, LITTLE_ENDIAN_HOST } from './embedding-pool.js';
import { validateStoredPattern, type Pattern, type PatternExpectations } from './pattern.js';

/**
 * The msgpack shape of a pattern on disk. Keys are always present and always
 * in this order, so every pattern is written with the one record structure
 * below, and a rebuilt memory encodes the same pattern to the same bytes.
 */
export interface StoredPattern {
  readonly id: string;
  /** The float32 embedding as raw little-endian bytes. */
  readonly embedding: Uint8Array;
  readonly outcome: string;
  readonly confidence: number;
  readonly support: number;
  readonly successes: number;
  readonly version: number;
  readonly origin: string;
  readonly featureSpaceId: string;
  readonly tags: readonly string[];
  readonly condition: string | null;
  readonly consolidated: boolean;
  readonly plasticity: number;
  readonly createdAt: number;
  readonly updatedAt: number;
}

const PATTERN_FIELDS: readonly (keyof StoredPattern)[] = [
  'id',
  'embedding',
  'outcome',
  'confidence',
  'support',
  'successes',
  'version',
  'origin',
  'featureSpaceId',
  'tags',
  'condition',
  'consolidated',
  'plasticity',
  'createdAt',
  'updatedAt',
];

/**
 * The msgpack record structures every record of every memory is written
 * with, fixed in code rather than stored in the database: a record is one
 * structure byte followed by its values, any process decodes it without
 * reading structures from disk, and a rebuilt memory encodes a pattern to
 * the same bytes as the original. The order is the format: append, never
 * reorder (journal.ts adds the event envelopes).
 */
const STRUCTURES: readonly (readonly string[])[] = [
  PATTERN_FIELDS,
  ['type', 'at'],
  ['type', 'at', 'source'],
  ['type', 'at', 'sources'],
  ['type', 'at', 'id', 'consolidated', 'plasticity'],
  ['type', 'at', 'id'],
  ['type', 'at', 'ids'],
];

/**
 * msgpackr restores a shared structure after any read that redefines it
 * inline, but only if it is marked shared; without the mark, one corrupt
 * record carrying a record definition would change how every later record
 * decodes.
 */
const packr = new Packr({
  structures: STRUCTURES.map((fields) => Object.assign([...fields], { isShared: true })),
  maxSharedStructures: STRUCTURES.length,
  useRecords: true,
});

export function pack(value: unknown): Uint8Array {
  return packr.pack(value);
}

/** Throws on malformed msgpack; callers wrap it into `CorruptRecordError`. */
export function unpack(bytes: Uint8Array): unknown {
  return packr.unpack(bytes);
}

/**
 * The bytes `pack(toStored(pattern))` gives, written directly: a pattern is
 * encoded on every write, and msgpackr's general path (a structure lookup
 * per key, a type dispatch per value) was the largest cost of an upsert.
 * Records are carved from a shared slab and never overwritten, so the
 * returned view stays valid for as long as it is held.
 */
export function encodePattern(pattern: Pattern): Uint8Array {
  const out = reserve(patternBound(pattern));
  writePattern(out, pattern);
  const record = out.bytes.subarray(out.start, out.at);
  // Keep the next record 8-byte aligned, as msgpackr does, so copying it stays cheap.
  out.at = (out.at + 7) & ~7;
  return record;
}

/** Bytes to write into from `at` on; `view` covers `bytes`. */
export interface Slab {
  bytes: Uint8Array;
  view: DataView;
  start: number;
  at: number;
}

/** At least the size of the pattern's record. */
export function patternBound(pattern: Pattern): number {
  let bound = 64 + pattern.embedding.byteLength + textBound(pattern.id) + textBound(pattern.outcome) + textBound(pattern.origin);
  bound += textBound(pattern.featureSpaceId) + (pattern.condition === undefined ? 0 : textBound(pattern.condition));
  for (const tag of pattern.tags) bound += textBound(tag);
  return bound;
}

/**
 * Writes the record `encodePattern` returns at `out.at`, which must have
 * `patternBound` bytes of room. The writers below take and return the
 * position rather than advancing `out.at`, whose store per byte took a
 * fifth of the encoding's time.
 */
export function writePattern(out: Slab, pattern: Pattern): void {
  const { bytes, view } = out;
  let at = out.at;
  bytes[at++] = 0x40;
  at = writeText(bytes, at, pattern.id);
  at = writeBinary(bytes, view, at, embeddingToBytes(pattern.embedding));
  at = writeText(bytes, at, pattern.outcome);
  at = writeNumber(bytes, view, at, pattern.confidence);
  at = writeNumber(bytes, view, at, pattern.support);
  at = writeNumber(bytes, view, at, pattern.successes);
  at = writeNumber(bytes, view, at, pattern.version);
  at = writeText(bytes, at, pattern.origin);
  at = writeText(bytes, at, pattern.featureSpaceId);
  const tags = pattern.tags;
  at = writeArrayHeader(bytes, view, at, tags.length);
  for (let i = 0; i < tags.length; i++) at = writeText(bytes, at, tags[i] as string);
  if (pattern.condition === undefined) bytes[at++] = 0xc0;
  else at = writeText(bytes, at, pattern.condition);
  bytes[at++] = pattern.consolidated ? 0xc3 : 0xc2;
  at = writeNumber(bytes, view, at, pattern.plasticity);
  at = writeNumber(bytes, view, at, pattern.createdAt);
  out.at = writeNumber(bytes, view, at, pattern.updatedAt);
}

const SLAB_SIZE = 256 * 1024;
let slab: Slab = newSlab(SLAB_SIZE);

export function newSlab(size: number): Slab {
  const bytes = new Uint8Array(size);
  return { bytes, view: new DataView(bytes.buffer), start: 0, at: 0 };
}

function reserve(bound: number): Slab {
  if (slab.at + bound > slab.bytes.byteLength) slab = newSlab(Math.max(SLAB_SIZE, bound));
  slab.start = slab.at;
  return slab;
}

/** UTF-8 takes at most three bytes per UTF-16 unit; five more cover the longest header. */
function textBound(text: string): number {
  return text.length * 3 + 5;
}

const utf8 = new TextEncoder();

/**
 * Texts are nearly always ASCII, so the characters are copied as bytes
 * behind a header sized for that, in one pass that also notes whether any
 * was not; only then is the text written again as UTF-8.
 */
function writeText(bytes: Uint8Array, start: number, text: string): number {
  const length = text.length;
  let at = start + (length < 0x20 ? 1 : length < 0x100 ? 2 : 3);
  let seen = 0;
  for (let i = 0; i < length; i++) {
    const code = text.charCodeAt(i);
    seen |= code;
    bytes[at++] = code;
  }
  if (seen > 0x7f) return writeUtf8(bytes, start, text);
  writeTextHeader(bytes, start, length);
  return at;
}

function writeUtf8(bytes: Uint8Array, start: number, text: string): number {
  const size = Buffer.byteLength(text, 'utf8');
  const at = writeTextHeader(bytes, start, size);
  utf8.encodeInto(text, bytes.subarray(at, at + size));
  return at + size;
}

function writeTextHeader(bytes: Uint8Array, at: number, size: number): number {
  if (size < 0x20) {
    bytes[at] = 0xa0 | size;
    return at + 1;
  }
  if (size < 0x100) {
    bytes[at] = 0xd9;
    bytes[at + 1] = size;
    return at + 2;
  }
  bytes[at] = 0xda;
  bytes[at + 1] = size >>> 8;
  bytes[at + 2] = size & 0xff;
  return at + 3;
}

function writeBinary(bytes: Uint8Array, view: DataView, at: number, data: Uint8Array): number {
  const size = data.byteLength;
  if (size < 0x100) {
    bytes[at++] = 0xc4;
    bytes[at++] = size;
  } else if (size < 0x10000) {
    bytes[at++] = 0xc5;
    view.setUint16(at, size);
    at += 2;
  } else {
    bytes[at++] = 0xc6;
    view.setUint32(at, size);
    at += 4;
  }
  bytes.set(data, at);
  return at + size;
}

function writeArrayHeader(bytes: Uint8Array, view: DataView, at: number, length: number): number {
  if (length < 0x10) {
    bytes[at] = 0x90 | length;
    return at + 1;
  }
  bytes[at] = 0xdc;
  view.setUint16(at + 1, length);
  return at + 3;
}

/** msgpackr's choices for a non-negative number with records on: 0x40..0x7f are record ids, so fixints stop at 0x3f. */
function writeNumber(bytes: Uint8Array, view: DataView, at: number, value: number): number {
  if (value >>> 0 === value) {
    if (value < 0x40) {
      bytes[at] = value;
      return at + 1;
    }
    if (value < 0x100) {
      bytes[at] = 0xcc;
      bytes[at + 1] = value;
      return at + 2;
    }
    if (value < 0x10000) {
      bytes[at] = 0xcd;
      view.setUint16(at + 1, value);
      return at + 3;
    }
    bytes[at] = 0xce;
    view.setUint32(at + 1, value);
    return at + 5;
  }
  bytes[at] = 0xcb;
  view.setFloat64(at + 1, value);
  return at + 9;
}

/** `embedding` copies the stored bytes into the pattern's Float32Array; by default one of the caller's own (see bytesToEmbedding). */
export function decodePattern(bytes: Uint8Array, expect: PatternExpectations, embedding = bytesToEmbedding): Pattern {
  return fromStored(packr.unpack(bytes), expect, embedding);
}

export function embeddingToBytes(embedding: Float32Array): Uint8Array {
  if (LITTLE_ENDIAN_HOST) return new Uint8Array(embedding.buffer, embedding.byteOffset, embedding.byteLength);
  const bytes = new Uint8Array(embedding.byteLength);
  const view = new DataView(bytes.buffer);
  embedding.forEach((value, i) => view.setFloat32(i * 4, value, true));
  return bytes;
}

/**
 * Always copies, into a Float32Array of the caller's own: a view into a slab
 * shared with other callers' embeddings, none overlapping (see
 * embedding-pool.ts), so reinterpret its bytes through `byteOffset`.
 */
export function bytesToEmbedding(bytes: Uint8Array): Float32Array {
  return callerEmbeddings.fromBytes(bytes);
}

export function toStored(pattern: Pattern): StoredPattern {
  return {
    id: pattern.id,
    embedding: embeddingToBytes(pattern.embedding),
    outcome: pattern.outcome,
    confidence: pattern.confidence,
    support: pattern.support,
    successes: pattern.successes,
    version: pattern.version,
    origin: pattern.origin,
    featureSpaceId: pattern.featureSpaceId,
    tags: pattern.tags,
    condition: pattern.condition ?? null,
    consolidated: pattern.consolidated,
    plasticity: pattern.plasticity,
    createdAt: pattern.createdAt,
    updatedAt: pattern.updatedAt,
  };
}

/**
 * Turns a decoded record back into a validated pattern, by the rules for
 * what a memory already holds (`validateStoredPattern`). Throws
 * `PatternValidationError` (or `RangeError` for a torn embedding); callers
 * wrap it into `CorruptRecordError` with the database and key.
 */
export function fromStored(record: unknown, expect: PatternExpectations, embedding = bytesToEmbedding): Pattern {
  if (typeof record !== 'object' || record === null) throw new TypeError(`expected a pattern record, got ${typeof record}`);
  const stored = record as Record<string, unknown>;
  const bytes = stored['embedding'];
  if (!(bytes instanceof Uint8Array)) throw new TypeError('embedding is not a byte string');
  const pattern: Record<string, unknown> = {
    id: stored['id'],
    embedding: embedding(bytes),
    outcome: stored['outcome'],
    confidence: stored['confidence'],
    support: stored['support'],
    successes: stored['successes'],
    version: stored['version'],
    origin: stored['origin'],
    featureSpaceId: stored['featureSpaceId'],
    tags: Array.isArray(stored['tags']) ? (stored['tags'] as unknown[]).slice() : stored['tags'],
    consolidated: stored['consolidated'],
    plasticity: stored['plasticity'],
    createdAt: stored['createdAt'],
    updatedAt: stored['updatedAt'],
  };
  // Added afterwards rather than spread into the literal, which V8 builds on a much slower path (every decode pays it).
  const condition = stored['condition'];
  if (condition !== null) pattern['condition'] = condition;
  validateStoredPattern(pattern, expect);
  return pattern;
}

/** Field-by-field equality, embeddings compared bit for bit. */
export function samePattern(a: Pattern, b: Pattern): boolean {
  return (
    a.id === b.id &&
    sameBytes(embeddingToBytes(a.embedding), embeddingToBytes(b.embedding)) &&
    a.outcome === b.outcome &&
    a.confidence === b.confidence &&
    a.support === b.support &&
    a.successes === b.successes &&
    a.version === b.version &&
    a.origin === b.origin &&
    a.featureSpaceId === b.featureSpaceId &&
    a.tags.length === b.tags.length &&
    a.tags.every((tag, i) => tag === b.tags[i]) &&
    a.condition === b.condition &&
    a.consolidated === b.consolidated &&
    a.plasticity === b.plasticity &&
    a.createdAt === b.createdAt &&
    a.updatedAt === b.updatedAt
  );
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}
