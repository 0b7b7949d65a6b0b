import { validatePattern, type Pattern, type PatternExpectations } from './pattern.js';

/**
 * The msgpack shape of a pattern on disk. Keys are always present and always
 * in this order, so msgpackr's shared structures hold exactly one record
 * structure for patterns, and a rebuilt memory encodes the same pattern to
 * the same bytes.
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

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

export function embeddingToBytes(embedding: Float32Array): Uint8Array {
  if (LITTLE_ENDIAN_HOST) return new Uint8Array(embedding.buffer, embedding.byteOffset, embedding.byteLength);
  const bytes = new Uint8Array(embedding.byteLength);
  const view = new DataView(bytes.buffer);
  embedding.forEach((value, i) => view.setFloat32(i * 4, value, true));
  return bytes;
}

/** Always copies: the bytes may be a view into a buffer LMDB reuses, and need not be 4-byte aligned. */
export function bytesToEmbedding(bytes: Uint8Array): Float32Array {
  if (bytes.byteLength % 4 !== 0) throw new RangeError(`embedding holds ${bytes.byteLength} bytes, not a multiple of 4`);
  const embedding = new Float32Array(bytes.byteLength / 4);
  if (LITTLE_ENDIAN_HOST) {
    new Uint8Array(embedding.buffer).set(bytes);
  } else {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let i = 0; i < embedding.length; i++) embedding[i] = view.getFloat32(i * 4, true);
  }
  return embedding;
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
 * Turns a decoded record back into a validated pattern. Throws
 * `PatternValidationError` (or `RangeError` for a torn embedding); callers
 * wrap it into `CorruptRecordError` with the database and key.
 */
export function fromStored(record: unknown, expect: PatternExpectations): Pattern {
  if (typeof record !== 'object' || record === null) throw new TypeError(`expected a pattern record, got ${typeof record}`);
  const stored = record as Record<string, unknown>;
  const bytes = stored['embedding'];
  if (!(bytes instanceof Uint8Array)) throw new TypeError('embedding is not a byte string');
  const condition = stored['condition'];
  const pattern = {
    id: stored['id'],
    embedding: bytesToEmbedding(bytes),
    outcome: stored['outcome'],
    confidence: stored['confidence'],
    support: stored['support'],
    successes: stored['successes'],
    version: stored['version'],
    origin: stored['origin'],
    featureSpaceId: stored['featureSpaceId'],
    tags: Array.isArray(stored['tags']) ? [...(stored['tags'] as unknown[])] : stored['tags'],
    ...(condition === null ? {} : { condition }),
    consolidated: stored['consolidated'],
    plasticity: stored['plasticity'],
    createdAt: stored['createdAt'],
    updatedAt: stored['updatedAt'],
  };
  validatePattern(pattern, expect);
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
