import { describe, expect, it } from 'vitest';
import { SwarmbankError } from '../../src/errors.js';
import { MAX_TIME, MAX_VERSION, PatternValidationError, validatePattern, validateStoredPattern, type Pattern } from '../../src/memory/pattern.js';
import { DIMENSIONS, FEATURE_SPACE } from './support.js';

const expect8 = { dimensions: DIMENSIONS, featureSpaceId: FEATURE_SPACE };

function valid(): Pattern {
  return {
    id: 'p-1',
    embedding: new Float32Array(DIMENSIONS).fill(0.25),
    outcome: 'down',
    confidence: 0.8,
    support: 12,
    successes: 9,
    version: 3,
    origin: 'agent-7',
    featureSpaceId: FEATURE_SPACE,
    tags: ['bullish_reversal', 'support_level'],
    condition: 'trending',
    consolidated: false,
    plasticity: 1,
    createdAt: 1_700_000_000_000,
    updatedAt: 1_700_000_000_500,
  };
}

function fieldOf(candidate: unknown): string {
  try {
    validatePattern(candidate, expect8);
  } catch (error) {
    expect(error).toBeInstanceOf(PatternValidationError);
    expect(error).toBeInstanceOf(SwarmbankError);
    expect((error as PatternValidationError).code).toBe('PATTERN_INVALID');
    return (error as PatternValidationError).field;
  }
  return 'none';
}

describe('pattern validation', () => {
  it('accepts a well-formed pattern, with or without a condition', () => {
    expect(fieldOf(valid())).toBe('none');
    const { condition: _condition, ...withoutCondition } = valid();
    expect(fieldOf(withoutCondition)).toBe('none');
  });

  it.each([
    ['id', { id: '' }],
    ['id', { id: 'x'.repeat(257) }],
    ['embedding', { embedding: [0, 0, 0, 0, 0, 0, 0, 0] }],
    ['embedding', { embedding: new Float32Array(DIMENSIONS + 1) }],
    ['embedding', { embedding: new Float32Array(DIMENSIONS).fill(Number.NaN) }],
    ['embedding', { embedding: new Float32Array(DIMENSIONS).fill(Number.POSITIVE_INFINITY) }],
    ['outcome', { outcome: 'sideways' }],
    ['confidence', { confidence: 1.01 }],
    ['confidence', { confidence: -0.1 }],
    ['confidence', { confidence: Number.NaN }],
    ['support', { support: 2.5 }],
    ['support', { support: -1 }],
    ['successes', { successes: 13 }],
    ['version', { version: 0 }],
    ['origin', { origin: '' }],
    ['featureSpaceId', { featureSpaceId: 'other-space' }],
    ['tags', { tags: 'bullish' }],
    ['tags[1]', { tags: ['ok', ''] }],
    ['condition', { condition: 42 }],
    ['consolidated', { consolidated: 'yes' }],
    ['plasticity', { plasticity: 2 }],
    ['createdAt', { createdAt: Number.POSITIVE_INFINITY }],
    ['updatedAt', { updatedAt: 1 }],
  ])('names %s as the bad field', (field, change) => {
    expect(fieldOf({ ...valid(), ...change })).toBe(field);
  });

  it('finds a non-finite value at any index, whatever the number of dimensions', () => {
    for (let dimensions = 1; dimensions <= 9; dimensions++) {
      const expectation = { dimensions, featureSpaceId: FEATURE_SPACE };
      expect(() => validatePattern({ ...valid(), embedding: new Float32Array(dimensions).fill(-0.5) }, expectation)).not.toThrow();
      for (let index = 0; index < dimensions; index++) {
        for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
          const embedding = new Float32Array(dimensions).fill(0.5);
          embedding[index] = bad;
          expect(() => validatePattern({ ...valid(), embedding }, expectation)).toThrow(`non-finite value at index ${index}`);
        }
      }
    }
  });

  it('names the first bad field in declaration order', () => {
    expect(fieldOf({ ...valid(), confidence: 7, plasticity: -1, embedding: new Float32Array(3) })).toBe('embedding');
  });

  it('refuses what is not an object', () => {
    expect(fieldOf(null)).toBe('pattern');
    expect(fieldOf([valid()])).toBe('pattern');
  });

  it('refuses an embedding of zeros, negative zeros included, which has no direction for a cosine', () => {
    expect(fieldOf({ ...valid(), embedding: new Float32Array(DIMENSIONS) })).toBe('embedding');
    expect(fieldOf({ ...valid(), embedding: new Float32Array(DIMENSIONS).fill(-0) })).toBe('embedding');
    expect(() => validatePattern({ ...valid(), embedding: new Float32Array(DIMENSIONS) }, expect8)).toThrow(/pattern "p-1": embedding is all zeros/);
    for (let index = 0; index < DIMENSIONS; index++) {
      const embedding = new Float32Array(DIMENSIONS);
      embedding[index] = 1e-45;
      expect(fieldOf({ ...valid(), embedding })).toBe('none');
    }
  });

  it('refuses a version above MAX_VERSION, leaving room below 2^53 for the increment of every write', () => {
    expect(fieldOf({ ...valid(), version: MAX_VERSION })).toBe('none');
    expect(fieldOf({ ...valid(), version: MAX_VERSION + 1 })).toBe('version');
    expect(fieldOf({ ...valid(), version: Number.MAX_SAFE_INTEGER })).toBe('version');
    expect(MAX_VERSION * 32).toBeLessThanOrEqual(Number.MAX_SAFE_INTEGER + 1);
  });

  it('refuses a timestamp past the last one a Date can hold', () => {
    expect(fieldOf({ ...valid(), createdAt: MAX_TIME, updatedAt: MAX_TIME })).toBe('none');
    expect(new Date(MAX_TIME).getTime()).toBe(MAX_TIME);
    expect(Number.isNaN(new Date(MAX_TIME + 1).getTime())).toBe(true);
    expect(fieldOf({ ...valid(), createdAt: MAX_TIME + 1, updatedAt: MAX_TIME + 1 })).toBe('createdAt');
    expect(fieldOf({ ...valid(), updatedAt: 1e300 })).toBe('updatedAt');
  });

  it('waives those three rules for what a memory already holds, so that older memories still read', () => {
    const old = { ...valid(), embedding: new Float32Array(DIMENSIONS), version: Number.MAX_SAFE_INTEGER, createdAt: 1e300, updatedAt: 1e300 };
    expect(() => validateStoredPattern(old, expect8)).not.toThrow();
    expect(() => validateStoredPattern({ ...old, confidence: 2 }, expect8)).toThrow(PatternValidationError);
  });

  it('says which pattern and what was wrong', () => {
    expect(() => validatePattern({ ...valid(), successes: 99 }, expect8)).toThrow(/pattern "p-1": successes \(99\) exceeds support \(12\)/);
  });
});
