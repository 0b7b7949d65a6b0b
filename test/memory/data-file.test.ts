import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { checkDataFile } from '../../src/memory/data-file.js';
import { CorruptMemoryFileError } from '../../src/memory/errors.js';
import { readMemoryFormat } from '../../src/memory/format.js';
import { openLmdbPersistence } from '../../src/memory/persistence-engine.js';
import { openPatternMemory } from '../../src/memory/store.js';
import { DIMENSIONS, FEATURE_SPACE, input, useMemoryFixture } from './support.js';

const exec = promisify(execFile);

/** The page size LMDB recorded in the first meta page (the free db's md_pad, 24 + 24 bytes in). */
function pageSizeOf(file: string): number {
  return fs.readFileSync(file).readUInt32LE(48);
}

const damages: readonly [string, (file: string) => void, RegExp][] = [
  ['truncated to 4 KiB', (file) => fs.truncateSync(file, 4096), /shorter than its two 4096-byte meta pages/],
  ['truncated to 8 KiB', (file) => fs.truncateSync(file, 8192), /truncated: its newest meta page \(txn \d+\) uses \d+ bytes/],
  ['with its first two pages zeroed', (file) => overwrite(file, 0, 2 * pageSizeOf(file)), /first page is not an LMDB meta page/],
  ['with only its first page zeroed', (file) => overwrite(file, 0, pageSizeOf(file)), /first page is not an LMDB meta page/],
  ['whose first meta page gives an impossible page size', (file) => overwrite(file, 48, 4, 3), /impossible page size of 50529027 bytes/],
  ['replaced by 3 bytes of garbage', (file) => fs.writeFileSync(file, 'abc'), /3 bytes, shorter than an LMDB meta page/],
];

function overwrite(file: string, offset: number, length: number, byte = 0): void {
  const fd = fs.openSync(file, 'r+');
  try {
    fs.writeSync(fd, Buffer.alloc(length, byte), 0, length, offset);
  } finally {
    fs.closeSync(fd);
  }
}

describe('a damaged data.mdb', () => {
  const fixture = useMemoryFixture();

  async function healthy(): Promise<string> {
    const dir = fixture.dir();
    const memory = await openPatternMemory({ path: dir, dimensions: DIMENSIONS, featureSpaceId: FEATURE_SPACE });
    await memory.upsertMany(Array.from({ length: 200 }, (_, i) => input(`p${i}`)));
    await memory.close();
    return dir;
  }

  it.each(damages)('refuses a data.mdb %s with CorruptMemoryFileError, in-process and unchanged', async (_damage, damage, reason) => {
    const dir = await healthy();
    const file = path.join(dir, 'data.mdb');
    damage(file);
    const bytes = fs.readFileSync(file);

    const error = await openPatternMemory({ path: dir, dimensions: DIMENSIONS, featureSpaceId: FEATURE_SPACE }).catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(CorruptMemoryFileError);
    expect(error).toMatchObject({ code: 'MEMORY_FILE_CORRUPT', file, message: expect.stringMatching(reason) });
    await expect(readMemoryFormat(dir)).rejects.toBeInstanceOf(CorruptMemoryFileError);
    expect(fs.readFileSync(file).equals(bytes)).toBe(true);
  });

  it('refuses a damaged data.mdb of the actors\' persistence too, before LMDB opens it', async () => {
    const dir = fixture.dir();
    const persistence = openLmdbPersistence({ path: dir });
    await persistence.persist({ key: 'a', sequenceNumber: 1, createdAt: 1, data: { n: 1 }, tags: [], isDeleted: false });
    await persistence.close();
    fs.truncateSync(path.join(dir, 'data.mdb'), 4096);
    expect(() => openLmdbPersistence({ path: dir })).toThrow(CorruptMemoryFileError);
  });

  it('reopens a healthy memory, whose meta pages pass the check', async () => {
    const dir = await healthy();
    const memory = await openPatternMemory({ path: dir, dimensions: DIMENSIONS, featureSpaceId: FEATURE_SPACE });
    expect(memory.count()).toBe(200);
    await memory.close();
    expect((await readMemoryFormat(dir)).patterns).toBe(200);
  });

  it('reopens a memory whose second meta page is garbage, which LMDB survives by the first one', async () => {
    const dir = await healthy();
    const file = path.join(dir, 'data.mdb');
    overwrite(file, pageSizeOf(file), pageSizeOf(file), 0xff);
    const memory = await openPatternMemory({ path: dir, dimensions: DIMENSIONS, featureSpaceId: FEATURE_SPACE });
    expect(memory.count()).toBe(200);
    await memory.close();
  });

  it('judges the length by the newest meta page, the second one when its txnid is higher', async () => {
    const dir = await healthy();
    const file = path.join(dir, 'data.mdb');
    const bytes = fs.readFileSync(file);
    const pageSize = pageSizeOf(file);
    // The meta's last page number and txnid, 144 and 152 bytes into the page.
    const newestTxnid = [0, pageSize].map((page) => bytes.readBigUInt64LE(page + 152)).reduce((a, b) => (a > b ? a : b));
    bytes.writeBigUInt64LE(newestTxnid + 1n, pageSize + 152);
    bytes.writeBigUInt64LE(BigInt(bytes.length / pageSize), pageSize + 144);
    fs.writeFileSync(file, bytes);

    await expect(openPatternMemory({ path: dir, dimensions: DIMENSIONS, featureSpaceId: FEATURE_SPACE })).rejects.toMatchObject({
      code: 'MEMORY_FILE_CORRUPT',
      message: expect.stringContaining(`truncated: its newest meta page (txn ${newestTxnid + 1n}) uses ${bytes.length + pageSize} bytes`),
    });
  });

  it('accepts a file that falls short of its newest meta page only while another process is still writing it', async () => {
    const dir = await healthy();
    const file = path.join(dir, 'data.mdb');
    const size = fs.statSync(file).size;
    const tailAt = size - pageSizeOf(file);
    const tail = path.join(dir, 'tail.bin');
    fs.writeFileSync(tail, fs.readFileSync(file).subarray(tailAt));
    fs.truncateSync(file, tailAt);
    // Like LMDB, the writer extends the file by writing past its end and never truncates it. It
    // says it is up before it writes, so the check starts on a short file however slow the spawn.
    const script = `const fs = require('fs');
      process.stdout.write('ready');
      setTimeout(() => { const fd = fs.openSync(${JSON.stringify(file)}, 'r+'); fs.writeSync(fd, fs.readFileSync(${JSON.stringify(tail)}), 0, undefined, ${tailAt}); fs.closeSync(fd); }, 50);`;
    const writer = spawn(process.execPath, ['-e', script]);
    const done = new Promise((resolve) => writer.on('exit', resolve));
    await new Promise((resolve) => writer.stdout.once('data', resolve));

    expect(fs.statSync(file).size).toBe(tailAt);
    expect(() => checkDataFile(dir)).not.toThrow();
    expect(fs.statSync(file).size).toBe(size);
    await done;
  });

  it('opens a missing or empty data.mdb as a new memory', async () => {
    for (const prepare of [(_file: string) => undefined, (file: string) => fs.writeFileSync(file, '')]) {
      const dir = fixture.dir();
      prepare(path.join(dir, 'data.mdb'));
      const memory = await openPatternMemory({ path: dir, dimensions: DIMENSIONS, featureSpaceId: FEATURE_SPACE });
      await memory.upsert(input('first'));
      expect(memory.count()).toBe(1);
      await memory.close();
    }
  });

  it('is refused before LMDB opens it, because LMDB kills the process on such a file instead of throwing', async () => {
    const dir = await healthy();
    fs.truncateSync(path.join(dir, 'data.mdb'), 8192);
    const script = `import { open } from 'lmdb'; open({ path: ${JSON.stringify(dir)}, maxDbs: 8 }).get('x'); console.log('survived');`;
    const outcome = await exec(process.execPath, ['--input-type=module', '-e', script], { cwd: process.cwd() }).then(
      () => ({ signal: null as NodeJS.Signals | null, survived: true }),
      (error: { signal: NodeJS.Signals | null }) => ({ signal: error.signal, survived: false }),
    );
    expect(outcome.survived).toBe(false);
    expect(['SIGSEGV', 'SIGBUS']).toContain(outcome.signal);
  });
});
