import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import {
  BUNDLE_FORMAT,
  BUNDLE_FORMAT_VERSION,
  BundleError,
  decodeBundle,
  exportBundle,
  importBundle,
  type BundleErrorCode,
  type BundleImportOptions,
  type BundleSelection,
} from '../../src/memory/bundle.js';
import { InvalidOptionError } from '../../src/memory/options.js';
import { MAX_TIME, MAX_VERSION, PatternValidationError, type Pattern } from '../../src/memory/pattern.js';
import type { PatternMemory } from '../../src/memory/store.js';
import { createRandom } from '../../src/random.js';
import { DIMENSIONS, FEATURE_SPACE, input, manualClock, randomInput, useMemoryFixture } from './support.js';

/** The format as a third party would read and write it: plain msgpack, nothing of swarmbank's. */
const packr = new Packr({ useRecords: false, mapsAsObjects: true, moreTypes: false });
const pack = (value: unknown): Uint8Array => new Uint8Array(packr.pack(value));
const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

type WireRecord = Record<string, unknown>;

function open(bytes: Uint8Array): { header: Record<string, unknown>; body: Uint8Array; records: WireRecord[] } {
  const { header, body } = packr.unpack(bytes) as { header: Record<string, unknown>; body: Uint8Array };
  return { header, body, records: packr.unpack(body) as WireRecord[] };
}

/**
 * Re-encodes a valid bundle with edits. Records are edited first and the
 * header's count and checksum recomputed for them, so an edit to a pattern
 * reaches pattern validation; the header edit comes last and may break the
 * header on purpose.
 */
function forge(
  bytes: Uint8Array,
  edit: { records?: (records: WireRecord[]) => unknown; header?: (header: Record<string, unknown>) => unknown } = {},
): Uint8Array {
  const opened = open(bytes);
  const records = edit.records === undefined ? opened.records : edit.records(opened.records.map((r) => ({ ...r })));
  const body = edit.records === undefined ? opened.body : pack(records);
  const header = { ...opened.header, count: Array.isArray(records) ? records.length : opened.header['count'], checksum: sha256(body) };
  return pack({ header: edit.header === undefined ? header : edit.header(header), body });
}

/** Every field, the embedding as its float32 bit patterns, so -0, subnormals and NaN payloads would all show. */
function bits(pattern: Pattern): Record<string, unknown> {
  return { ...pattern, embedding: [...new Uint32Array(Float32Array.from(pattern.embedding).buffer)] };
}

function floatBytes(values: readonly number[]): Uint8Array {
  const bytes = new Uint8Array(values.length * 4);
  values.forEach((value, i) => new DataView(bytes.buffer).setFloat32(i * 4, value, true));
  return bytes;
}

/** What must not move when a bundle is refused. */
function fingerprint(memory: PatternMemory): string {
  return JSON.stringify([memory.count(), memory.lastSeq(), [...memory.iterate()].map((p) => [p.id, p.version])]);
}

async function refusal(promise: Promise<unknown>): Promise<BundleError> {
  const error = await promise.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  if (!(error instanceof BundleError)) throw new Error(`expected a BundleError, got ${String(error)}`);
  return error;
}

describe('pattern bundles', () => {
  const fixture = useMemoryFixture();

  /** Twelve seeded patterns of several origins, tags and conditions; two consolidated; one with awkward float bits. */
  async function source(): Promise<PatternMemory> {
    const memory = await fixture.open({ clock: manualClock().now });
    const random = createRandom(2024);
    await memory.upsertMany(Array.from({ length: 11 }, (_, i) => randomInput(random, `p${String(i).padStart(2, '0')}`)));
    const awkward = Float32Array.from({ length: DIMENSIONS }, (_, k) => [-0, 1e-45, 3.4e38, -1.17549435e-38][k % 4] as number);
    await memory.upsert(input('awkward', { embedding: awkward, condition: 'ranging', tags: ['support_level', 'trending'] }));
    await memory.consolidate(['p03', 'awkward']);
    return memory;
  }

  /** A memory that already holds something, so a refused bundle has something to leave alone. */
  async function target(options: { dimensions?: number; featureSpaceId?: string } = {}): Promise<PatternMemory> {
    const memory = await fixture.open({ clock: manualClock(1_800_000_000_000).now, ...options });
    await memory.upsert(input('local', { embedding: new Float32Array(options.dimensions ?? DIMENSIONS).fill(0.25) }));
    return memory;
  }

  describe('export and round trip', () => {
    it('decodes to the source patterns bit for bit, under a header that describes them', async () => {
      const memory = await source();
      const bytes = exportBundle(memory);

      const { header, patterns } = decodeBundle(bytes, memory);

      expect(patterns.map(bits)).toEqual([...memory.iterate()].map(bits));
      expect(header).toEqual({
        format: BUNDLE_FORMAT,
        formatVersion: BUNDLE_FORMAT_VERSION,
        featureSpaceId: FEATURE_SPACE,
        dimensions: DIMENSIONS,
        count: 12,
        checksum: sha256(open(bytes).body),
      });
    });

    it('stores embeddings as raw little-endian float32 bytes', async () => {
      const memory = await source();
      const awkward = open(exportBundle(memory)).records.find((r) => r['id'] === 'awkward');
      expect(Buffer.from(awkward?.['embedding'] as Uint8Array).equals(Buffer.from(floatBytes([-0, 1e-45, 3.4e38, -1.17549435e-38, -0, 1e-45, 3.4e38, -1.17549435e-38])))).toBe(true);
    });

    it.each<[string, BundleSelection, (p: Pattern) => boolean]>([
      ['tags', { tags: ['trending', 'absent'] }, (p) => p.tags.includes('trending')],
      ['minConfidence', { minConfidence: 0.5 }, (p) => p.confidence >= 0.5],
      ['one origin', { origin: 'agent-2' }, (p) => p.origin === 'agent-2'],
      ['several origins', { origin: ['agent-0', 'agent-3'] }, (p) => ['agent-0', 'agent-3'].includes(p.origin)],
      ['every criterion at once', { tags: ['support_level'], minConfidence: 0.5, origin: ['agent-1', 'agent-2'] }, (p) =>
        p.tags.includes('support_level') && p.confidence >= 0.5 && ['agent-1', 'agent-2'].includes(p.origin)],
    ])('exports only the patterns selected by %s', async (_name, select, keep) => {
      const memory = await source();
      const expected = [...memory.iterate()].filter(keep);
      expect(expected.length).toBeGreaterThan(0);
      expect(expected.length).toBeLessThan(12);

      const { header, patterns } = decodeBundle(exportBundle(memory, { select }), memory);

      expect(patterns.map(bits)).toEqual(expected.map(bits));
      expect(header.count).toBe(expected.length);
    });

    it('refuses a bad selection, naming the option', async () => {
      const memory = await source();
      expect(() => exportBundle(memory, { select: { minConfidence: 2 } })).toThrow(InvalidOptionError);
      expect(() => exportBundle(memory, { select: { tag: ['x'] } as BundleSelection })).toThrow(/select\.tag/);
    });
  });

  describe('import', () => {
    it('imports every pattern through one journaled import: content kept, versions bumped, protection left behind', async () => {
      const from = await source();
      const into = await target();
      const seq = into.lastSeq();
      const bytes = exportBundle(from);

      const result = await importBundle(into, bytes, { mode: 'full' });

      expect(result.skipped).toEqual([]);
      expect(result.imported.map((p) => p.id)).toEqual([...from.iterate()].map((p) => p.id));
      for (const original of from.iterate()) {
        const copy = into.get(original.id) as Pattern;
        expect(bits(copy)).toEqual(bits({ ...original, version: original.version + 1, updatedAt: copy.updatedAt, consolidated: false }));
        expect(copy.updatedAt).toBe(1_800_000_000_000);
      }
      const events = [];
      for await (const event of into.replay({ from: seq + 1 })) events.push(event);
      expect(events).toHaveLength(12);
      expect(new Set(events.map((e) => (e.type === 'import' ? e.source : e.type)))).toEqual(new Set([`bundle:${result.header.checksum.slice(0, 16)}`]));
      expect(into.get('local')).toBeDefined();
    });

    it('imports selectively, reporting the valid patterns it left out', async () => {
      const from = await source();
      const into = await target();
      const select = { minConfidence: 0.5 };

      const result = await importBundle(into, exportBundle(from), { mode: 'selective', select, source: 'agent-7' });

      const chosen = [...from.iterate()].filter((p) => p.confidence >= 0.5).map((p) => p.id);
      expect(result.imported.map((p) => p.id)).toEqual(chosen);
      expect(result.skipped).toEqual([...from.iterate()].filter((p) => p.confidence < 0.5).map((p) => p.id));
      expect(into.count()).toBe(chosen.length + 1);
    });

    it.each<[string, Partial<BundleImportOptions> | Record<string, unknown>]>([
      ['mode', { mode: 'partial' }],
      ['select', { mode: 'selective' }],
      ['select', { mode: 'full', select: { minConfidence: 0.5 } }],
      ['source', { mode: 'full', source: '' }],
      ['overwrite', { mode: 'full', overwrite: true }],
    ])('refuses a bad %s option before reading the bundle', async (option, options) => {
      const into = await target();
      const before = fingerprint(into);
      const error = await importBundle(into, exportBundle(await source()), options as BundleImportOptions).catch((thrown: unknown) => thrown);
      expect(error).toBeInstanceOf(InvalidOptionError);
      expect(error).toMatchObject({ option });
      expect(fingerprint(into)).toBe(before);
    });
  });

  describe('refusing bad bundles whole', () => {
    it.each<[BundleErrorCode, string | undefined, (bytes: Uint8Array) => Uint8Array]>([
      ['BUNDLE_DECODE', undefined, () => Uint8Array.of(0xc1)],
      ['BUNDLE_DECODE', undefined, () => new Uint8Array(0)],
      ['BUNDLE_DECODE', undefined, (bytes) => Uint8Array.from([...bytes, 0x00])],
      ['BUNDLE_DECODE', undefined, (bytes) => bytes.subarray(0, bytes.length - 1)],
      ['BUNDLE_DECODE', undefined, () => pack([1, 2, 3])],
      ['BUNDLE_DECODE', undefined, (bytes) => pack({ header: open(bytes).header, body: open(bytes).body, extra: 1 })],
      ['BUNDLE_DECODE', 'body', (bytes) => pack({ header: open(bytes).header, body: 'not bytes' })],
      ['BUNDLE_DECODE', 'body', (bytes) => forge(bytes, { records: () => ({ not: 'an array' }) })],
      ['BUNDLE_HEADER', 'header', (bytes) => pack({ header: [1], body: open(bytes).body })],
      ['BUNDLE_FORMAT', 'format', (bytes) => forge(bytes, { header: (h) => ({ ...h, format: 'other-patterns' }) })],
      ['BUNDLE_FORMAT', 'formatVersion', (bytes) => forge(bytes, { header: (h) => ({ ...h, formatVersion: 2 }) })],
      ['BUNDLE_FORMAT', 'formatVersion', (bytes) => forge(bytes, { header: (h) => ({ ...h, formatVersion: '1' }) })],
      ['BUNDLE_HEADER', 'featureSpaceId', (bytes) => forge(bytes, { header: (h) => ({ ...h, featureSpaceId: 42 }) })],
      ['BUNDLE_FEATURE_SPACE', 'featureSpaceId', (bytes) => forge(bytes, { header: (h) => ({ ...h, featureSpaceId: 'ohlcv-returns-v2' }) })],
      ['BUNDLE_HEADER', 'dimensions', (bytes) => forge(bytes, { header: (h) => ({ ...h, dimensions: '8' }) })],
      ['BUNDLE_HEADER', 'dimensions', (bytes) => forge(bytes, { header: (h) => ({ ...h, dimensions: 0 }) })],
      ['BUNDLE_DIMENSIONS', 'dimensions', (bytes) => forge(bytes, { header: (h) => ({ ...h, dimensions: 16 }) })],
      ['BUNDLE_HEADER', 'count', (bytes) => forge(bytes, { header: (h) => ({ ...h, count: -1 }) })],
      ['BUNDLE_HEADER', 'checksum', (bytes) => forge(bytes, { header: (h) => ({ ...h, checksum: 'ABC' }) })],
      ['BUNDLE_HEADER', 'checksum', (bytes) => forge(bytes, { header: ({ checksum: _dropped, ...h }) => h })],
      ['BUNDLE_HEADER', 'signer', (bytes) => forge(bytes, { header: (h) => ({ ...h, signer: 'me' }) })],
      ['BUNDLE_CHECKSUM', 'checksum', (bytes) => forge(bytes, { header: (h) => ({ ...h, checksum: '0'.repeat(64) }) })],
      ['BUNDLE_COUNT', 'count', (bytes) => forge(bytes, { header: (h) => ({ ...h, count: 11 }) })],
      ['BUNDLE_COUNT', 'count', (bytes) => forge(bytes, { header: (h) => ({ ...h, count: 13 }) })],
    ])('refuses with %s (field %s)', async (code, field, make) => {
      const into = await target();
      const before = fingerprint(into);
      const error = await refusal(importBundle(into, make(exportBundle(await source())), { mode: 'full' }));
      expect(error).toMatchObject({ code, field });
      expect(fingerprint(into)).toBe(before);
    });

    it.each<[string, (record: WireRecord) => WireRecord]>([
      ['pattern', () => [1, 2] as unknown as WireRecord],
      ['id', (r) => ({ ...r, id: '' })],
      ['id', (r) => ({ ...r, id: 'x'.repeat(257) })],
      ['embedding', (r) => ({ ...r, embedding: floatBytes([1, 2, 3]) })],
      ['embedding', (r) => ({ ...r, embedding: [1, 2, 3, 4, 5, 6, 7, 8] })],
      ['embedding', (r) => ({ ...r, embedding: floatBytes([1, 2, 3, Number.POSITIVE_INFINITY, 5, 6, 7, 8]) })],
      ['embedding', (r) => ({ ...r, embedding: floatBytes([1, 2, 3, Number.NaN, 5, 6, 7, 8]) })],
      ['embedding', (r) => ({ ...r, embedding: floatBytes([0, 0, 0, 0, 0, 0, 0, 0]) })],
      ['embedding', (r) => ({ ...r, embedding: floatBytes([0, -0, 0, -0, 0, -0, 0, -0]) })],
      ['outcome', (r) => ({ ...r, outcome: 'sideways' })],
      ['confidence', (r) => ({ ...r, confidence: 1.5 })],
      ['confidence', (r) => ({ ...r, confidence: Number.NaN })],
      ['confidence', (r) => ({ ...r, confidence: '0.5' })],
      ['support', (r) => ({ ...r, support: -1 })],
      ['support', (r) => ({ ...r, support: 2.5 })],
      ['successes', (r) => ({ ...r, successes: (r['support'] as number) + 1 })],
      ['version', (r) => ({ ...r, version: 0 })],
      ['version', (r) => ({ ...r, version: MAX_VERSION + 1 })],
      ['version', (r) => ({ ...r, version: Number.MAX_SAFE_INTEGER })],
      ['origin', (r) => ({ ...r, origin: undefined })],
      ['tags', (r) => ({ ...r, tags: 'trending' })],
      ['tags[0]', (r) => ({ ...r, tags: [7] })],
      ['condition', (r) => ({ ...r, condition: '' })],
      ['consolidated', (r) => ({ ...r, consolidated: 1 })],
      ['plasticity', (r) => ({ ...r, plasticity: -0.1 })],
      ['createdAt', (r) => ({ ...r, createdAt: Number.POSITIVE_INFINITY })],
      ['createdAt', (r) => ({ ...r, createdAt: 1e300, updatedAt: 1e300 })],
      ['updatedAt', (r) => ({ ...r, updatedAt: MAX_TIME + 1 })],
      ['updatedAt', (r) => ({ ...r, updatedAt: (r['createdAt'] as number) - 1 })],
      ['featureSpaceId', (r) => ({ ...r, featureSpaceId: FEATURE_SPACE })],
      ['id', (r) => ({ ...r, id: 'awkward' })],
    ])('refuses a bad pattern with BUNDLE_PATTERN naming its index and field %s', async (field, corrupt) => {
      const into = await target();
      const before = fingerprint(into);
      const bytes = forge(exportBundle(await source()), { records: (records) => records.map((r, i) => (i === 1 ? corrupt(r) : r)) });

      const error = await refusal(importBundle(into, bytes, { mode: 'full' }));

      expect(error).toMatchObject({ code: 'BUNDLE_PATTERN', index: 1, field });
      expect(error.message).toMatch(/^bundle pattern 1: /);
      expect(fingerprint(into)).toBe(before);
    });

    it('refuses, whole, a pattern at MAX_VERSION, whose import would write a version past it', async () => {
      const into = await target();
      const before = fingerprint(into);
      const bytes = forge(exportBundle(await source()), { records: (records) => records.map((r, i) => (i === 1 ? { ...r, version: MAX_VERSION } : r)) });
      const error = await importBundle(into, bytes, { mode: 'full' }).catch((thrown: unknown) => thrown);
      expect(error).toBeInstanceOf(PatternValidationError);
      expect(error).toMatchObject({ code: 'PATTERN_INVALID', field: 'version' });
      expect(fingerprint(into)).toBe(before);
    });

    it('imports nothing when only the last pattern is bad, even in selective mode where that pattern would be skipped', async () => {
      const into = await target();
      const before = fingerprint(into);
      const bytes = forge(exportBundle(await source()), { records: (records) => records.map((r, i) => (i === 11 ? { ...r, confidence: 7 } : r)) });
      await expect(importBundle(into, bytes, { mode: 'selective', select: { minConfidence: 0 } })).rejects.toMatchObject({ index: 11 });
      expect(fingerprint(into)).toBe(before);
    });

    it('refuses a bundle exported from another feature space or dimension', async () => {
      const from = await source();
      await expect(importBundle(await target({ featureSpaceId: 'candles-v1' }), exportBundle(from), { mode: 'full' })).rejects.toMatchObject({
        code: 'BUNDLE_FEATURE_SPACE',
      });
      await expect(importBundle(await target({ dimensions: 16 }), exportBundle(from), { mode: 'full' })).rejects.toMatchObject({
        code: 'BUNDLE_DIMENSIONS',
      });
    });

    it('refuses a value that is not bytes', async () => {
      const into = await target();
      await expect(importBundle(into, 'bundle' as unknown as Uint8Array, { mode: 'full' })).rejects.toMatchObject({ code: 'BUNDLE_DECODE' });
    });
  });

  describe('fuzzing the decoder', () => {
    /**
     * Imports `bytes` and demands that the outcome is either a success or a
     * BundleError that left the memory exactly as it was. Returns whether it
     * was refused.
     */
    async function importOrRefuse(into: PatternMemory, bytes: Uint8Array): Promise<boolean> {
      const before = fingerprint(into);
      try {
        await importBundle(into, bytes, { mode: 'full' });
        return false;
      } catch (error) {
        if (!(error instanceof BundleError)) throw error;
        expect(fingerprint(into)).toBe(before);
        return true;
      }
    }

    it('refuses random bytes with a BundleError and nothing else (fast-check seed 1)', async () => {
      const into = await target();
      await fc.assert(
        fc.asyncProperty(fc.uint8Array({ maxLength: 600 }), async (bytes) => {
          expect(await importOrRefuse(into, bytes)).toBe(true);
        }),
        { seed: 1, numRuns: 1000 },
      );
    });

    it('refuses a valid bundle with bits flipped, truncated, or with bytes appended (fast-check seed 2)', async () => {
      const into = await target();
      const valid = exportBundle(await source());
      const mutation = fc.oneof(
        fc.array(fc.nat({ max: valid.length * 8 - 1 }), { minLength: 1, maxLength: 8 }).map((positions) => {
          const bytes = Uint8Array.from(valid);
          // An even number of flips of one bit cancels out; flip each chosen bit once.
          for (const bit of new Set(positions)) bytes[bit >> 3] = (bytes[bit >> 3] as number) ^ (1 << (bit & 7));
          return bytes;
        }),
        fc.nat({ max: valid.length - 1 }).map((length) => valid.slice(0, length)),
        fc.uint8Array({ minLength: 1, maxLength: 16 }).map((tail) => Uint8Array.from([...valid, ...tail])),
      );
      await fc.assert(
        fc.asyncProperty(mutation, async (bytes) => {
          expect(await importOrRefuse(into, bytes)).toBe(true);
        }),
        { seed: 2, numRuns: 1000 },
      );
    });

    it('writes nothing for a body of random bytes or arbitrary msgpack values under an otherwise valid header (fast-check seed 5)', async () => {
      const into = await target();
      const valid = exportBundle(await source());
      const anything = fc.anything({ withTypedArray: true, withDate: true, withMap: true, withSet: true, withNullPrototype: true });
      const body = fc.oneof(
        fc.uint8Array({ maxLength: 400 }),
        anything.map(pack),
        fc.array(anything, { minLength: 1, maxLength: 4 }).map(pack),
      );
      await fc.assert(
        fc.asyncProperty(body, fc.nat({ max: 4 }), async (bytes, count) => {
          const forged = pack({ header: { ...open(valid).header, count, checksum: sha256(bytes) }, body: bytes });
          const before = fingerprint(into);
          await importOrRefuse(into, forged);
          // Only an empty array of patterns gets through, and it writes nothing.
          expect(fingerprint(into)).toBe(before);
        }),
        { seed: 5, numRuns: 500 },
      );
    });

    it('refuses a valid bundle with two header fields swapped (fast-check seed 3)', async () => {
      const into = await target();
      const valid = exportBundle(await source());
      const keys = Object.keys(open(valid).header);
      const swap = fc.uniqueArray(fc.constantFrom(...keys), { minLength: 2, maxLength: 2 });
      await fc.assert(
        fc.asyncProperty(swap, async ([a, b]) => {
          const bytes = forge(valid, {
            header: (h) => ({ ...h, [a as string]: open(valid).header[b as string], [b as string]: open(valid).header[a as string] }),
          });
          expect(await importOrRefuse(into, bytes)).toBe(true);
        }),
        { seed: 3, numRuns: 100 },
      );
    });

    it('never lets a pattern with swapped or arbitrary field values through half-imported (fast-check seed 4)', async () => {
      const into = await target();
      const valid = exportBundle(await source());
      const fields = Object.keys(open(valid).records[0] as WireRecord);
      const edit = fc.record({
        index: fc.nat({ max: 11 }),
        a: fc.constantFrom(...fields),
        b: fc.constantFrom(...fields),
        value: fc.option(fc.anything({ withTypedArray: true, withDate: true, withMap: true, withSet: true }), { nil: undefined }),
      });
      let refused = 0;
      await fc.assert(
        fc.asyncProperty(edit, async ({ index, a, b, value }) => {
          const bytes = forge(valid, {
            records: (records) =>
              records.map((r, i) => (i !== index ? r : value === undefined ? { ...r, [a]: r[b], [b]: r[a] } : { ...r, [a]: value })),
          });
          if (await importOrRefuse(into, bytes)) refused++;
        }),
        { seed: 4, numRuns: 400 },
      );
      expect(refused).toBeGreaterThan(200);
    });
  });
});
