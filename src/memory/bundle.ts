import { createHash } from 'node:crypto';
import { Packr } from 'msgpackr';
import { SwarmbankError } from '../errors.js';
import { bytesToEmbedding, embeddingToBytes } from './codec.js';
import { optionReader } from './options.js';
import { PatternValidationError, validatePattern, type Pattern, type PatternExpectations } from './pattern.js';
import type { PatternMemory } from './store.js';

export const BUNDLE_FORMAT = 'swarmbank-patterns';
export const BUNDLE_FORMAT_VERSION = 1;

/**
 * The first thing a reader checks. `checksum` is the lowercase hex SHA-256
 * of the encoded body, so a body damaged in transit or storage is refused
 * before a single pattern is decoded.
 */
export interface BundleHeader {
  readonly format: typeof BUNDLE_FORMAT;
  readonly formatVersion: typeof BUNDLE_FORMAT_VERSION;
  readonly featureSpaceId: string;
  readonly dimensions: number;
  readonly count: number;
  readonly checksum: string;
}

export type BundleErrorCode =
  /** Not msgpack, trailing bytes, or not shaped as { header, body }. */
  | 'BUNDLE_DECODE'
  /** A header field is missing, mistyped or unknown. */
  | 'BUNDLE_HEADER'
  /** Another format, or a version of this one this reader does not know. */
  | 'BUNDLE_FORMAT'
  | 'BUNDLE_FEATURE_SPACE'
  | 'BUNDLE_DIMENSIONS'
  | 'BUNDLE_CHECKSUM'
  /** The body holds another number of patterns than the header says. */
  | 'BUNDLE_COUNT'
  /** A pattern breaks a rule; `index` and `field` say which and where. */
  | 'BUNDLE_PATTERN';

/** A bundle was refused whole; nothing of it was written. The message names the first problem found. */
export class BundleError extends SwarmbankError {
  declare readonly code: BundleErrorCode;
  /** The offending header or pattern field. */
  readonly field: string | undefined;
  /** The position of the offending pattern in the bundle. */
  readonly index: number | undefined;

  constructor(code: BundleErrorCode, message: string, where: { field?: string; index?: number } = {}, cause?: unknown) {
    super(code, message, { cause });
    this.field = where.field;
    this.index = where.index;
  }
}

/** Which patterns to take. Every criterion given must hold. */
export interface BundleSelection {
  /** The pattern has at least one of these tags. */
  readonly tags?: readonly string[];
  readonly minConfidence?: number;
  /** The pattern was learned by this agent, or by one of these. */
  readonly origin?: string | readonly string[];
}

export interface ExportOptions {
  readonly select?: BundleSelection;
}

export interface BundleImportOptions {
  /** `full` imports every pattern; `selective` only those `select` matches. */
  readonly mode: 'full' | 'selective';
  readonly select?: BundleSelection;
  /** Recorded in the journal. Default `bundle:` and the first 16 hex digits of the checksum. */
  readonly source?: string;
}

export interface BundleImportResult {
  readonly header: BundleHeader;
  /** The patterns as the memory wrote them (with its versions and timestamps). */
  readonly imported: readonly Pattern[];
  /** Ids of valid patterns that `select` left out. */
  readonly skipped: readonly string[];
}

export interface DecodedBundle {
  readonly header: BundleHeader;
  /** As they were exported, bit for bit. */
  readonly patterns: readonly Pattern[];
}

/**
 * Plain msgpack maps, no msgpackr records or extensions of ours: a bundle
 * travels between nodes and versions, and should read with any msgpack
 * decoder. The bundle format is defined here, apart from the store's codec,
 * so that optimising storage can never change what a bundle looks like.
 */
const packr = new Packr({ useRecords: false, mapsAsObjects: true, moreTypes: false });

const HEADER_KEYS = ['format', 'formatVersion', 'featureSpaceId', 'dimensions', 'count', 'checksum'] as const;
const PATTERN_KEYS = [
  'id',
  'embedding',
  'outcome',
  'confidence',
  'support',
  'successes',
  'version',
  'origin',
  'tags',
  'condition',
  'consolidated',
  'plasticity',
  'createdAt',
  'updatedAt',
] as const;

/**
 * Encodes the memory's patterns (all, or those `select` matches) in id
 * order: `{ header, body }`, where body is the msgpack encoding of an array
 * of pattern maps, each embedding as raw little-endian float32 bytes. The
 * feature-space id lives in the header only.
 */
export function exportBundle(memory: PatternMemory, options: ExportOptions = {}): Uint8Array {
  const read = optionReader('exportBundle');
  const o = read.only(options, ['select']);
  const select = o['select'] === undefined ? undefined : readSelection(o['select'], 'exportBundle');
  return encodeBundle(
    [...memory.iterate()].filter((p) => select === undefined || matches(p, select)),
    memory,
  );
}

/**
 * Encodes patterns already read from a memory of `space`, in the order
 * given: for a sender that picked them itself, such as a replica shipping
 * what changed since its last sync.
 */
export function encodeBundle(patterns: readonly Pattern[], space: { readonly featureSpaceId: string; readonly dimensions: number }): Uint8Array {
  const body = new Uint8Array(packr.pack(patterns.map(toWire)));
  const header: BundleHeader = {
    format: BUNDLE_FORMAT,
    formatVersion: BUNDLE_FORMAT_VERSION,
    featureSpaceId: space.featureSpaceId,
    dimensions: space.dimensions,
    count: patterns.length,
    checksum: sha256(body),
  };
  return new Uint8Array(packr.pack({ header, body }));
}

/**
 * Decodes and validates a whole bundle against what the receiving memory
 * expects, throwing `BundleError` at the first problem. It checks, in order:
 * the msgpack envelope, each header field, the checksum, the body's
 * encoding and count, then every pattern with `validatePattern` (finite
 * numbers, ranges of confidence and counts, ids, tags) and that no id
 * repeats. Nothing else is ever thrown, whatever the bytes.
 */
export function decodeBundle(bytes: Uint8Array, expect: PatternExpectations): DecodedBundle {
  if (!(bytes instanceof Uint8Array)) throw new BundleError('BUNDLE_DECODE', 'a bundle must be a Uint8Array');
  const envelope = unpackOne(bytes, 'bundle');
  if (!isRecord(envelope) || Object.keys(envelope).length !== 2 || !('header' in envelope) || !('body' in envelope)) {
    throw new BundleError('BUNDLE_DECODE', 'a bundle must be a msgpack map of exactly header and body');
  }
  const header = readHeader(envelope['header'], expect);
  const body = envelope['body'];
  if (!(body instanceof Uint8Array)) throw new BundleError('BUNDLE_DECODE', 'the bundle body must be a byte string', { field: 'body' });
  if (sha256(body) !== header.checksum) {
    throw new BundleError('BUNDLE_CHECKSUM', 'the bundle body does not match the header checksum', { field: 'checksum' });
  }
  const records = unpackOne(body, 'bundle body');
  if (!Array.isArray(records)) throw new BundleError('BUNDLE_DECODE', 'the bundle body must be an array of patterns', { field: 'body' });
  if (records.length !== header.count) {
    throw new BundleError('BUNDLE_COUNT', `the header announces ${header.count} patterns, the body holds ${records.length}`, { field: 'count' });
  }
  const seen = new Set<string>();
  const patterns = records.map((record: unknown, index) => {
    const pattern = fromWire(record, index, expect);
    if (seen.has(pattern.id)) patternError(index, 'id', `${JSON.stringify(pattern.id)} appears twice`);
    seen.add(pattern.id);
    return pattern;
  });
  return { header, patterns };
}

/**
 * Validates the whole bundle first (see `decodeBundle`), then writes the
 * chosen patterns in one transaction through the memory's journaled import:
 * a bad bundle changes nothing, and a good one is imported entirely or,
 * should the store refuse the write, not at all.
 */
export async function importBundle(memory: PatternMemory, bytes: Uint8Array, options: BundleImportOptions): Promise<BundleImportResult> {
  const read = optionReader('importBundle');
  const o = read.only(options, ['mode', 'select', 'source']);
  const mode = o['mode'];
  if (mode !== 'full' && mode !== 'selective') read.fail('mode', `must be 'full' or 'selective', got ${JSON.stringify(mode)}`);
  if (mode === 'selective' && o['select'] === undefined) read.fail('select', "is required when mode is 'selective'");
  if (mode === 'full' && o['select'] !== undefined) read.fail('select', "applies only when mode is 'selective'");
  const select = o['select'] === undefined ? undefined : readSelection(o['select'], 'importBundle');
  const source = o['source'];
  if (source !== undefined && (typeof source !== 'string' || source.length === 0)) read.fail('source', 'must be a non-empty string');

  const { header, patterns } = decodeBundle(bytes, memory);
  const chosen = select === undefined ? patterns : patterns.filter((p) => matches(p, select));
  const skipped = select === undefined ? [] : patterns.filter((p) => !matches(p, select)).map((p) => p.id);
  const journalSource = typeof source === 'string' ? source : `bundle:${header.checksum.slice(0, 16)}`;
  const imported = chosen.length === 0 ? [] : await memory.importPatterns(chosen, { source: journalSource });
  return { header, imported, skipped };
}

function readSelection(value: unknown, operation: string): BundleSelection {
  const read = optionReader(operation);
  const s = read.only(value, ['tags', 'minConfidence', 'origin'], 'select');
  const origin = s['origin'];
  if (origin !== undefined && typeof origin !== 'string') read.strings('select.origin', origin);
  return {
    ...(s['tags'] === undefined ? {} : { tags: read.strings('select.tags', s['tags']) }),
    ...(s['minConfidence'] === undefined ? {} : { minConfidence: read.number('select.minConfidence', s['minConfidence'], 0, 1) }),
    ...(origin === undefined ? {} : { origin: origin as string | readonly string[] }),
  };
}

function matches(p: Pattern, select: BundleSelection): boolean {
  if (select.tags !== undefined && !select.tags.some((tag) => p.tags.includes(tag))) return false;
  if (select.minConfidence !== undefined && p.confidence < select.minConfidence) return false;
  if (select.origin !== undefined && !(typeof select.origin === 'string' ? p.origin === select.origin : select.origin.includes(p.origin))) {
    return false;
  }
  return true;
}

function readHeader(value: unknown, expect: PatternExpectations): BundleHeader {
  if (!isRecord(value)) throw new BundleError('BUNDLE_HEADER', 'the bundle header must be a map', { field: 'header' });
  const fail = (code: BundleErrorCode, field: string, reason: string): never => {
    throw new BundleError(code, `bundle header ${field} ${reason}`, { field });
  };
  const { format, formatVersion, featureSpaceId, dimensions, count, checksum } = value;
  if (format !== BUNDLE_FORMAT) fail('BUNDLE_FORMAT', 'format', `is ${show(format)}, expected ${JSON.stringify(BUNDLE_FORMAT)}`);
  if (formatVersion !== BUNDLE_FORMAT_VERSION) {
    fail('BUNDLE_FORMAT', 'formatVersion', `is ${show(formatVersion)}; this reader knows version ${BUNDLE_FORMAT_VERSION}`);
  }
  if (typeof featureSpaceId !== 'string' || featureSpaceId.length === 0) fail('BUNDLE_HEADER', 'featureSpaceId', `must be a non-empty string, got ${show(featureSpaceId)}`);
  if (featureSpaceId !== expect.featureSpaceId) {
    fail('BUNDLE_FEATURE_SPACE', 'featureSpaceId', `is ${show(featureSpaceId)}, the memory's is ${JSON.stringify(expect.featureSpaceId)}`);
  }
  if (!isCount(dimensions) || dimensions === 0) fail('BUNDLE_HEADER', 'dimensions', `must be a positive integer, got ${show(dimensions)}`);
  if (dimensions !== expect.dimensions) fail('BUNDLE_DIMENSIONS', 'dimensions', `are ${show(dimensions)}, the memory's are ${expect.dimensions}`);
  if (!isCount(count)) fail('BUNDLE_HEADER', 'count', `must be a non-negative integer, got ${show(count)}`);
  if (typeof checksum !== 'string' || !/^[0-9a-f]{64}$/.test(checksum)) fail('BUNDLE_HEADER', 'checksum', 'must be 64 lowercase hex digits');
  const unknown = Object.keys(value).find((key) => !(HEADER_KEYS as readonly string[]).includes(key));
  if (unknown !== undefined) throw new BundleError('BUNDLE_HEADER', `bundle header field ${JSON.stringify(unknown)} is unknown`, { field: unknown });
  return value as unknown as BundleHeader;
}

function toWire(p: Pattern): Record<string, unknown> {
  return {
    id: p.id,
    embedding: embeddingToBytes(p.embedding),
    outcome: p.outcome,
    confidence: p.confidence,
    support: p.support,
    successes: p.successes,
    version: p.version,
    origin: p.origin,
    tags: p.tags,
    ...(p.condition === undefined ? {} : { condition: p.condition }),
    consolidated: p.consolidated,
    plasticity: p.plasticity,
    createdAt: p.createdAt,
    updatedAt: p.updatedAt,
  };
}

function fromWire(record: unknown, index: number, expect: PatternExpectations): Pattern {
  if (!isRecord(record)) return patternError(index, 'pattern', 'must be a map');
  const unknown = Object.keys(record).find((key) => !(PATTERN_KEYS as readonly string[]).includes(key));
  if (unknown !== undefined) patternError(index, unknown, 'is not a pattern field');
  const bytes = record['embedding'];
  if (!(bytes instanceof Uint8Array) || bytes.byteLength !== expect.dimensions * 4) {
    patternError(index, 'embedding', `must be ${expect.dimensions * 4} bytes of little-endian float32`);
  }
  const tags = record['tags'];
  const candidate = {
    ...record,
    embedding: bytesToEmbedding(bytes as Uint8Array),
    featureSpaceId: expect.featureSpaceId,
    tags: Array.isArray(tags) ? [...(tags as unknown[])] : tags,
  };
  try {
    validatePattern(candidate, expect);
  } catch (error) {
    if (error instanceof PatternValidationError) return patternError(index, error.field, error.message, error);
    throw error;
  }
  return candidate;
}

function patternError(index: number, field: string, reason: string, cause?: PatternValidationError): never {
  const message = cause === undefined ? `bundle pattern ${index}: ${field} ${reason}` : `bundle pattern ${index}: ${reason}`;
  throw new BundleError('BUNDLE_PATTERN', message, { index, field }, cause);
}

function unpackOne(bytes: Uint8Array, what: string): unknown {
  try {
    return packr.unpack(bytes);
  } catch (error) {
    throw new BundleError('BUNDLE_DECODE', `the ${what} is not one well-formed msgpack value: ${error instanceof Error ? error.message : String(error)}`, {}, error);
  }
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype;
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 64 ? `${value.slice(0, 64)}…` : value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === undefined || value === null) return String(value);
  return typeof value;
}
