import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { samePattern } from '../../src/memory/codec.js';
import { CorruptRecordError } from '../../src/memory/errors.js';
import type { JournalEvent } from '../../src/memory/journal.js';
import { validatePattern, type Pattern } from '../../src/memory/pattern.js';
import { openPatternMemory, type PatternMemory } from '../../src/memory/store.js';
import { DIMENSIONS, FEATURE_SPACE, input, rawRecords, useMemoryFixture, writeRaw } from './support.js';

const FUZZ_RUNS = 100;

type Mutation = { readonly kind: 'flip' | 'insert' | 'delete' | 'truncate'; readonly at: number; readonly value: number };

const mutation = fc.record({
  kind: fc.constantFrom('flip', 'insert', 'delete', 'truncate'),
  at: fc.nat(),
  value: fc.integer({ min: 0, max: 255 }),
}) as fc.Arbitrary<Mutation>;

function mutate(bytes: Uint8Array, mutations: readonly Mutation[]): Uint8Array {
  let out = [...bytes];
  for (const { kind, at, value } of mutations) {
    const i = out.length === 0 ? 0 : at % out.length;
    if (kind === 'flip') out[i] = (out[i] ?? 0) ^ (value || 1);
    else if (kind === 'insert') out.splice(i, 0, value);
    else if (kind === 'delete') out.splice(i, 1);
    else out = out.slice(0, i);
  }
  return Uint8Array.from(out);
}

async function withMemory<T>(dir: string, use: (memory: PatternMemory) => Promise<T> | T): Promise<T> {
  const memory = await openPatternMemory({ path: dir, dimensions: DIMENSIONS, featureSpaceId: FEATURE_SPACE });
  try {
    return await use(memory);
  } finally {
    await memory.close();
  }
}

/** A typed error or a valid pattern: the only two things reading a record may give. */
function readOrTypedError(memory: PatternMemory, id: string): Pattern | CorruptRecordError {
  try {
    const pattern = memory.get(id);
    if (pattern !== undefined) validatePattern(pattern, { dimensions: DIMENSIONS, featureSpaceId: FEATURE_SPACE });
    return pattern as Pattern;
  } catch (error) {
    expect(error).toBeInstanceOf(CorruptRecordError);
    expect(error).toMatchObject({ code: 'CORRUPT_RECORD', database: 'patterns', key: id });
    return error as CorruptRecordError;
  }
}

describe('pattern memory with corrupted records', () => {
  const fixture = useMemoryFixture();

  async function memoryWithVictim(): Promise<{ dir: string; victim: Pattern; victimBytes: Buffer }> {
    const dir = fixture.dir();
    const victim = await withMemory(dir, async (memory) => {
      await memory.upsertMany([input('before'), input('victim', { condition: 'volatile' }), input('after')]);
      return memory.get('victim') as Pattern;
    });
    const victimBytes = (await rawRecords(dir, 'patterns')).get(JSON.stringify('victim')) as Buffer;
    return { dir, victim, victimBytes };
  }

  async function checkCorrupted(dir: string, victim: Pattern, bytes: Uint8Array): Promise<void> {
    await writeRaw(dir, 'patterns', 'victim', bytes);
    await withMemory(dir, async (memory) => {
      const read = readOrTypedError(memory, 'victim');
      expect(memory.get('before')?.id).toBe('before');
      expect(memory.get('after')?.id).toBe('after');
      const report = memory.checkIntegrity();
      if (read instanceof CorruptRecordError || !samePattern(read, victim)) {
        expect(report.ok).toBe(false);
        expect(report.problems.join('\n')).toMatch(/victim/);
      }
      const seq = memory.lastSeq();
      if (read instanceof CorruptRecordError) {
        await expect(memory.upsert(input('victim'))).rejects.toThrow(CorruptRecordError);
        expect(memory.lastSeq()).toBe(seq);
      }
    });
  }

  it('gives a typed error or a valid pattern for random bytes, never a crash (fast-check seed 17)', async () => {
    const { dir, victim } = await memoryWithVictim();
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 1, maxLength: 400 }), (bytes) => checkCorrupted(dir, victim, bytes)),
      { seed: 17, numRuns: FUZZ_RUNS },
    );
  });

  it('gives a typed error or a valid pattern for a mutated record, never a crash (fast-check seed 23)', async () => {
    const { dir, victim, victimBytes } = await memoryWithVictim();
    await fc.assert(
      fc.asyncProperty(fc.array(mutation, { minLength: 1, maxLength: 4 }), (mutations) =>
        checkCorrupted(dir, victim, mutate(victimBytes, mutations)),
      ),
      { seed: 23, numRuns: FUZZ_RUNS },
    );
  });

  it('names the corrupt key when iterating', async () => {
    const { dir } = await memoryWithVictim();
    await writeRaw(dir, 'patterns', 'victim', Uint8Array.of(0xc1));
    await withMemory(dir, (memory) => {
      expect(() => [...memory.iterate()]).toThrow(expect.objectContaining({ code: 'CORRUPT_RECORD', key: 'victim' }));
    });
  });

  it('stops a replay at a corrupt journal event with a typed error, and reports it as an integrity problem', async () => {
    const { dir } = await memoryWithVictim();
    await writeRaw(dir, 'journal', 2, Uint8Array.of(0x92, 0x01));
    await withMemory(dir, async (memory) => {
      const seen: number[] = [];
      const replay = async (): Promise<void> => {
        for await (const event of memory.replay()) seen.push((event as JournalEvent).seq);
      };
      await expect(replay()).rejects.toMatchObject({ code: 'CORRUPT_RECORD', database: 'journal', key: 2 });
      expect(seen).toEqual([]);
      const report = memory.checkIntegrity();
      expect(report.ok).toBe(false);
      expect(report.problems[0]).toMatch(/^journal event 2:/);
    });
  });

  it('rebuilds a sound memory from the journal of one with a corrupt record', async () => {
    const { dir, victim } = await memoryWithVictim();
    await writeRaw(dir, 'patterns', 'victim', Uint8Array.of(0xff, 0xff));
    const rebuilt = await fixture.open();
    await withMemory(dir, (memory) => rebuilt.restore({ events: memory.replay() }));
    expect(rebuilt.checkIntegrity()).toMatchObject({ ok: true, patterns: 3 });
    expect(rebuilt.get('victim')).toEqual(victim);
  });
});
