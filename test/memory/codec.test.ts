import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodePattern, encodePattern, pack, samePattern, toStored } from '../../src/memory/codec.js';
import type { Pattern } from '../../src/memory/pattern.js';

// Graphemes keep strings well-formed (a lone surrogate has no UTF-8 form); eight code units a grapheme at most keeps them within the length limits.
// The repeated two-byte character reaches the longer msgpack string headers.
const text = (maxLength: number) =>
  fc.oneof(fc.string({ unit: 'grapheme', minLength: 1, maxLength: maxLength / 8 }), fc.nat(maxLength / 2).map((n) => 'é'.repeat(n + 1)));
const count = fc.oneof(fc.constantFrom(0, 0x3f, 0x40, 0xff, 0x100, 0xffff, 0x10000, 0xffffffff, 2 ** 32), fc.nat());
const unit = fc.oneof(fc.constantFrom(0, 1, 0.5, 0.1), fc.double({ min: 0, max: 1, noNaN: true }));
const time = fc.oneof(fc.constantFrom(0, 1_700_000_000_000), fc.integer({ min: 0, max: 2 ** 45 }), fc.double({ min: 0, max: 2 ** 45, noNaN: true }));

const pattern = fc.integer({ min: 1, max: 400 }).chain((dimensions) =>
  fc.record(
    {
      id: text(256),
      embedding: fc.float32Array({ minLength: dimensions, maxLength: dimensions, noDefaultInfinity: true, noNaN: true }),
      outcome: fc.constantFrom('up' as const, 'down' as const),
      confidence: unit,
      support: count,
      successes: count,
      version: count,
      origin: text(256),
      featureSpaceId: text(64),
      tags: fc.array(text(128), { maxLength: 20 }),
      condition: text(128),
      consolidated: fc.boolean(),
      plasticity: unit,
      createdAt: time,
      updatedAt: time,
    },
    { requiredKeys: ['id', 'embedding', 'outcome', 'confidence', 'support', 'successes', 'version', 'origin', 'featureSpaceId', 'tags', 'consolidated', 'plasticity', 'createdAt', 'updatedAt'] },
  ),
) as fc.Arbitrary<Pattern>;

describe('pattern codec', () => {
  it('writes exactly the bytes msgpackr packs for the stored shape (fast-check seed 31)', () => {
    fc.assert(
      fc.property(pattern, (p) => {
        expect(Buffer.from(encodePattern(p)).equals(Buffer.from(pack(toStored(p))))).toBe(true);
      }),
      { seed: 31, numRuns: 500 },
    );
  });

  it('writes msgpackr\'s bytes for texts at every string header boundary, ASCII or not to the last character', () => {
    const base: Pattern = {
      id: 'a',
      embedding: Float32Array.of(0.5, -1),
      outcome: 'up',
      confidence: 0.5,
      support: 3,
      successes: 2,
      version: 1,
      origin: 'agent-1',
      featureSpaceId: 'fs',
      tags: [],
      consolidated: false,
      plasticity: 1,
      createdAt: 1,
      updatedAt: 2,
    };
    for (const length of [1, 31, 32, 255, 256]) {
      for (const last of ['x', 'é', '€', '😀']) {
        const value = 'a'.repeat(length - 1) + last;
        const p = { ...base, id: value, origin: value, tags: [value, 'b'], condition: value };
        expect(Buffer.from(encodePattern(p)).equals(Buffer.from(pack(toStored(p)))), `${length} ending ${last}`).toBe(true);
      }
    }
  });

  it('decodes what it encodes (fast-check seed 37)', () => {
    const valid = pattern.map((p) => ({
      ...p,
      successes: Math.min(p.successes, p.support),
      version: Math.max(p.version, 1),
      updatedAt: Math.max(p.createdAt, p.updatedAt),
    }));
    fc.assert(
      fc.property(valid, (p) => {
        const decoded = decodePattern(encodePattern(p), { dimensions: p.embedding.length, featureSpaceId: p.featureSpaceId });
        expect(samePattern(decoded, p)).toBe(true);
      }),
      { seed: 37, numRuns: 200 },
    );
  });

  it('encodes an embedding that is a view into a larger buffer by its own bytes alone, as decoded embeddings are', () => {
    const slab = new Float32Array(12).fill(-7);
    const embedding = slab.subarray(4, 8);
    embedding.set([1, -2, 0.5, 3]);
    const p: Pattern = {
      id: 'a', embedding, outcome: 'up', confidence: 0.5, support: 2, successes: 1, version: 1, origin: 'agent',
      featureSpaceId: 'fs', tags: [], consolidated: false, plasticity: 1, createdAt: 1, updatedAt: 1,
    };
    const own = { ...p, embedding: Float32Array.of(1, -2, 0.5, 3) };
    expect(Buffer.from(encodePattern(p)).equals(Buffer.from(encodePattern(own)))).toBe(true);
    const decoded = decodePattern(encodePattern(p), { dimensions: 4, featureSpaceId: 'fs' });
    expect([...decoded.embedding]).toEqual([1, -2, 0.5, 3]);
    expect(samePattern(decoded, own)).toBe(true);
  });
});
