import fs from 'node:fs';
import path from 'node:path';
import { open } from 'lmdb';
import { describe, expect, it } from 'vitest';
import { NotAPatternMemoryError } from '../../src/memory/errors.js';
import { readMemoryFormat } from '../../src/memory/format.js';
import { DIMENSIONS, FEATURE_SPACE, input, useMemoryFixture } from './support.js';

describe('readMemoryFormat', () => {
  const fixture = useMemoryFixture();

  it("tells a memory's format and counters, closed or open in this process", async () => {
    const memory = await fixture.open({ recencyHalfLifeMs: 1234 });
    await memory.upsertMany([input('a'), input('b'), input('c')]);
    await memory.delete('c');
    await memory.setExemplars(['b']);
    const expected = {
      formatVersion: 2,
      dimensions: DIMENSIONS,
      featureSpaceId: FEATURE_SPACE,
      recencyHalfLifeMs: 1234,
      patterns: 2,
      lastSeq: 5,
      compactedThrough: 0,
      exemplars: 1,
    };
    expect(await readMemoryFormat(memory.path)).toEqual(expected);
    // The open memory keeps working after the read-only look.
    await memory.upsert(input('d'));
    await memory.close();
    expect(await readMemoryFormat(memory.path)).toEqual({ ...expected, patterns: 3, lastSeq: 6 });
  });

  it('refuses a directory without a memory and an LMDB environment of something else, creating nothing in either', async () => {
    const empty = fixture.dir();
    await expect(readMemoryFormat(empty)).rejects.toThrow(NotAPatternMemoryError);
    await expect(readMemoryFormat(empty)).rejects.toMatchObject({ code: 'NOT_A_PATTERN_MEMORY', reason: 'holds no pattern memory (no data.mdb)' });
    expect(fs.readdirSync(empty)).toEqual([]);

    const other = fixture.dir();
    const root = open({ path: other, maxDbs: 8, noSubdir: false });
    await root.openDB({ name: 'things' }).put('x', 1);
    await root.close();
    await expect(readMemoryFormat(other)).rejects.toMatchObject({
      code: 'NOT_A_PATTERN_MEMORY',
      message: `${other}: is an LMDB environment but not a pattern memory (it has no format record)`,
    });
    // The unnamed database lists the named ones: still only the one written above.
    const check = open({ path: other, maxDbs: 8, noSubdir: false, readOnly: true });
    expect([...check.getKeys()]).toEqual(['things']);
    await check.close();

    await expect(readMemoryFormat(path.join(empty, 'missing'))).rejects.toMatchObject({ code: 'NOT_A_PATTERN_MEMORY' });
  });
});
