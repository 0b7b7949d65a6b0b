import { SwarmbankError } from '../errors.js';

/**
 * The sign of the next-h-bar return a pattern predicts. A flat position is a
 * decision the learner takes when the patterns disagree, not an outcome, so
 * it has no pattern of its own.
 */
export type Outcome = 'up' | 'down';

export const OUTCOMES: readonly Outcome[] = ['up', 'down'];

/** A learned prototype in one feature space (see "pattern" in DESIGN.md). */
export interface Pattern {
  readonly id: string;
  readonly embedding: Float32Array;
  readonly outcome: Outcome;
  /** How far the pattern is trusted, 0..1. */
  readonly confidence: number;
  /** How many observations matched the pattern. */
  readonly support: number;
  /** How many of those observations had the predicted outcome; never above `support`. */
  readonly successes: number;
  /** 1 when first written; every mutation stores the previous version + 1. */
  readonly version: number;
  /** The agent that learned the pattern; imports keep it. */
  readonly origin: string;
  readonly featureSpaceId: string;
  readonly tags: readonly string[];
  /** The market condition the pattern was learned in, such as `trending`. */
  readonly condition?: string;
  /** Consolidated patterns are never evicted. */
  readonly consolidated: boolean;
  /** How far the learner may move the pattern per update, 0..1. */
  readonly plasticity: number;
  /** Milliseconds since the epoch. */
  readonly createdAt: number;
  readonly updatedAt: number;
}

/** What a caller supplies to write a pattern; the memory owns versions, timestamps and consolidation. */
export interface PatternInput {
  readonly id: string;
  readonly embedding: Float32Array;
  readonly outcome: Outcome;
  readonly confidence: number;
  readonly support: number;
  readonly successes: number;
  readonly origin: string;
  /** Defaults to the memory's; any other value is refused. */
  readonly featureSpaceId?: string;
  readonly tags?: readonly string[];
  readonly condition?: string;
  /** Defaults to the stored value, or 1 for a new pattern. */
  readonly plasticity?: number;
}

export interface PatternExpectations {
  readonly dimensions: number;
  readonly featureSpaceId: string;
}

/** Ids are LMDB keys, whose size is bounded; 256 characters stays well inside it. */
export const MAX_ID_LENGTH = 256;
export const MAX_TAG_LENGTH = 128;
export const MAX_TAGS = 64;
/**
 * The highest version a pattern may have: 2^48, thousands of years of a
 * write a millisecond to one pattern, yet 32 times below 2^53, where + 1
 * stops being exact. A pattern that would pass it is refused, whole, rather
 * than stored where no update of it could ever be written again.
 */
export const MAX_VERSION = 2 ** 48;
/** The range of timestamps a JS Date can hold, in ms since the epoch. */
export const MAX_TIME = 8.64e15;

/** A pattern broke a rule; `field` names the first offending field. */
export class PatternValidationError extends SwarmbankError {
  constructor(
    readonly field: string,
    readonly reason: string,
    readonly patternId?: string,
  ) {
    super(
      'PATTERN_INVALID',
      `pattern${patternId === undefined ? '' : ` ${JSON.stringify(patternId)}`}: ${field} ${reason}`,
    );
  }
}

/**
 * Checks every field of a would-be pattern, in declaration order, and throws
 * on the first problem. Takes `unknown` because imported and decoded records
 * arrive untyped. It runs on every write and (as `validateStoredPattern`)
 * every decode, so it allocates nothing unless it throws (no per-call
 * closure for the failure).
 *
 * Besides types and ranges it refuses an embedding of zeros (no direction,
 * so no cosine with anything: the learner's index cannot hold it), a
 * version above `MAX_VERSION`, and a timestamp a Date cannot hold.
 */
export function validatePattern(candidate: unknown, expect: PatternExpectations): asserts candidate is Pattern {
  checkPattern(candidate, expect, true);
}

/**
 * `validatePattern` for a record a memory already holds: it waives the rules
 * added after memories were first written (zero embeddings, `MAX_VERSION`,
 * `MAX_TIME`), so that a memory written before them still opens.
 */
export function validateStoredPattern(candidate: unknown, expect: PatternExpectations): asserts candidate is Pattern {
  checkPattern(candidate, expect, false);
}

function checkPattern(candidate: unknown, expect: PatternExpectations, strict: boolean): asserts candidate is Pattern {
  if (typeof candidate !== 'object' || candidate === null || Array.isArray(candidate)) {
    throw new PatternValidationError('pattern', `must be an object, got ${describeType(candidate)}`);
  }
  const p = candidate as Record<string, unknown>;
  const id = typeof p['id'] === 'string' ? p['id'] : undefined;

  if (id === undefined || id.length === 0 || id.length > MAX_ID_LENGTH) {
    fail(id, 'id', `must be a string of 1..${MAX_ID_LENGTH} characters`);
  }
  const embedding = p['embedding'];
  if (!(embedding instanceof Float32Array)) return fail(id, 'embedding', `must be a Float32Array, got ${describeType(embedding)}`);
  if (embedding.length !== expect.dimensions) {
    fail(id, 'embedding', `has ${embedding.length} dimensions, expected ${expect.dimensions}`);
  }
  if (!allFinite(embedding)) fail(id, 'embedding', `holds a non-finite value at index ${firstNonFinite(embedding)}`);
  if (strict && isZeroVector(embedding)) fail(id, 'embedding', 'is all zeros, a vector with no direction');
  if (!OUTCOMES.includes(p['outcome'] as Outcome)) fail(id, 'outcome', `must be one of ${OUTCOMES.join(', ')}`);
  requireUnit(p['confidence'], 'confidence', id);
  const support = requireCount(p['support'], 'support', id);
  const successes = requireCount(p['successes'], 'successes', id);
  if (successes > support) fail(id, 'successes', `(${successes}) exceeds support (${support})`);
  const version = requireCount(p['version'], 'version', id);
  if (version < 1) fail(id, 'version', 'must be at least 1');
  if (strict && version > MAX_VERSION) fail(id, 'version', `(${version}) exceeds the maximum ${MAX_VERSION}`);
  requireText(p['origin'], 'origin', MAX_ID_LENGTH, id);
  if (p['featureSpaceId'] !== expect.featureSpaceId) {
    fail(id, 'featureSpaceId', `is ${JSON.stringify(p['featureSpaceId'])}, expected ${JSON.stringify(expect.featureSpaceId)}`);
  }
  const tags = p['tags'];
  if (!Array.isArray(tags) || tags.length > MAX_TAGS) fail(id, 'tags', `must be an array of at most ${MAX_TAGS} strings`);
  for (let i = 0; i < (tags as unknown[]).length; i++) {
    const tag = (tags as unknown[])[i];
    // The field name is built only on failure: this runs for every tag of every write and decode.
    if (!isText(tag, MAX_TAG_LENGTH)) requireText(tag, `tags[${i}]`, MAX_TAG_LENGTH, id);
  }
  if (p['condition'] !== undefined) requireText(p['condition'], 'condition', MAX_TAG_LENGTH, id);
  if (typeof p['consolidated'] !== 'boolean') fail(id, 'consolidated', 'must be a boolean');
  requireUnit(p['plasticity'], 'plasticity', id);
  const createdAt = requireTime(p['createdAt'], 'createdAt', id, strict);
  const updatedAt = requireTime(p['updatedAt'], 'updatedAt', id, strict);
  if (updatedAt < createdAt) fail(id, 'updatedAt', `(${updatedAt}) is before createdAt (${createdAt})`);
}

function fail(id: string | undefined, field: string, reason: string): never {
  throw new PatternValidationError(field, reason, id);
}

/**
 * x × 0 is 0 for every finite x and NaN for ±Infinity and NaN, so one pass
 * without a branch per component tells whether all are finite: a 384-float
 * check this way costs a fraction of calling `Number.isFinite` on each.
 * Four sums rather than one: each addition waits for the previous one to
 * the same sum, and four independent chains made validating a
 * 384-dimension pattern about 1.5× faster.
 */
function allFinite(values: Float32Array): boolean {
  const length = values.length;
  const whole = length & ~3;
  let a = 0;
  let b = 0;
  let c = 0;
  let d = 0;
  for (let i = 0; i < whole; i += 4) {
    a += (values[i] as number) * 0;
    b += (values[i + 1] as number) * 0;
    c += (values[i + 2] as number) * 0;
    d += (values[i + 3] as number) * 0;
  }
  for (let i = whole; i < length; i++) a += (values[i] as number) * 0;
  return a + b + c + d === 0;
}

/**
 * Exits at the first non-zero value, which in a real embedding is almost
 * always the first: this costs next to nothing per write. `-0 !== 0` is
 * false, so negative zeros count as zeros, as they must (no direction).
 */
export function isZeroVector(values: Float32Array): boolean {
  for (let i = 0; i < values.length; i++) if (values[i] !== 0) return false;
  return true;
}

function firstNonFinite(values: Float32Array): number {
  return values.findIndex((value) => !Number.isFinite(value));
}

function requireUnit(value: unknown, field: string, id: string | undefined): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) return fail(id, field, `must be a finite number, got ${describeType(value)}`);
  if (value < 0 || value > 1) fail(id, field, `must be within 0..1, got ${value}`);
  return value;
}

function requireCount(value: unknown, field: string, id: string | undefined): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    return fail(id, field, `must be a non-negative integer, got ${describeType(value)}`);
  }
  return value;
}

function requireTime(value: unknown, field: string, id: string | undefined, strict: boolean): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    return fail(id, field, `must be a non-negative finite timestamp, got ${describeType(value)}`);
  }
  if (strict && value > MAX_TIME) fail(id, field, `(${value}) is past the last time a Date can hold (${MAX_TIME})`);
  return value;
}

function requireText(value: unknown, field: string, maxLength: number, id: string | undefined): void {
  if (!isText(value, maxLength)) fail(id, field, `must be a string of 1..${maxLength} characters`);
}

function isText(value: unknown, maxLength: number): boolean {
  return typeof value === 'string' && value.length > 0 && value.length <= maxLength;
}

function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'number') return String(value);
  if (typeof value === 'object') return value.constructor?.name ?? 'object';
  return typeof value;
}
