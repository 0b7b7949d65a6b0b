import { describe, expect, it } from 'vitest';
import { encodePattern, samePattern } from '../../src/memory/codec.js';
import { decodeRecord, encodeEnvelope } from '../../src/memory/journal.js';
import { JournalRecordBuilder } from '../../src/memory/journal-record.js';
import type { Pattern } from '../../src/memory/pattern.js';

const DIMENSIONS = 384;
const expectations = { dimensions: DIMENSIONS, featureSpaceId: 'fs' };

function pattern(n: number): Pattern {
  return {
    id: `p${n}`,
    embedding: Float32Array.from({ length: DIMENSIONS }, (_, i) => (i + n) / 1000),
    outcome: n % 2 === 0 ? 'up' : 'down',
    confidence: 0.5,
    support: n + 1,
    successes: n,
    version: 1,
    origin: 'agent',
    featureSpaceId: 'fs',
    tags: ['t'],
    consolidated: false,
    plasticity: 1,
    createdAt: 1000,
    updatedAt: 1000 + n,
  };
}

describe('journal record builder', () => {
  it('builds a record of envelopes and pattern records that decodes to its events, growing past its first buffer', () => {
    const builder = new JournalRecordBuilder();
    builder.begin();
    const envelope = encodeEnvelope({ type: 'upsert', at: 5, pattern: pattern(0) });
    const written: Pattern[] = [];
    for (let n = 0; n < 200; n++) {
      builder.append(envelope);
      const bytes = builder.appendPattern(pattern(n));
      // The view it returns is the record the patterns database gets: the codec's bytes exactly.
      expect(Buffer.from(bytes).equals(Buffer.from(encodePattern(pattern(n))))).toBe(true);
      written.push(pattern(n));
    }
    const events = decodeRecord(7, builder.finish(), expectations);
    expect(events).toHaveLength(200);
    events.forEach((event, n) => {
      expect(event).toMatchObject({ type: 'upsert', seq: 7 + n, at: 5 });
      expect(samePattern((event as { pattern: Pattern }).pattern, written[n] as Pattern)).toBe(true);
    });
  });

  it('drops what was appended after a mark, and starts empty on begin', () => {
    const builder = new JournalRecordBuilder();
    builder.begin();
    builder.append(encodeEnvelope({ type: 'delete', at: 1, id: 'a' }));
    const mark = builder.mark();
    builder.append(encodeEnvelope({ type: 'upsert', at: 1, pattern: pattern(1) }));
    builder.appendPattern(pattern(1));
    builder.truncate(mark, 2);
    expect(builder.count).toBe(1);
    expect(decodeRecord(1, builder.finish(), expectations)).toEqual([{ type: 'delete', seq: 1, at: 1, id: 'a' }]);

    builder.begin();
    expect(builder.count).toBe(0);
    builder.append(encodeEnvelope({ type: 'evict', at: 2, id: 'b' }));
    expect(decodeRecord(9, builder.finish(), expectations)).toEqual([{ type: 'evict', seq: 9, at: 2, id: 'b' }]);
  });
});
