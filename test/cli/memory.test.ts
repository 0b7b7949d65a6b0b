import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Command } from 'commander';
import { afterEach, describe, expect, it } from 'vitest';
import { memoryCommand } from '../../src/cli/memory.js';
import { exportBundle } from '../../src/memory/bundle.js';
import { openDatabases } from '../../src/memory/databases.js';
import type { PatternInput } from '../../src/memory/pattern.js';
import { openPatternMemory, type PatternMemory } from '../../src/memory/store.js';

const exec = promisify(execFile);
const DIMENSIONS = 6;
const SPACE = 'cli-test-space';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'swarmbank-memory-cli-'));
  dirs.push(dir);
  return dir;
}

interface Outcome {
  readonly out: string;
  readonly exitCode: number;
}

/** Runs `swarmbank memory ...` in-process, as main.ts wires it: exit override on, exit codes collected. */
async function memory(...args: string[]): Promise<Outcome> {
  let out = '';
  let exitCode = 0;
  const program = new Command('swarmbank').exitOverride().configureOutput({ writeErr: () => undefined, writeOut: () => undefined });
  program.addCommand(memoryCommand({ write: (text) => (out += text), exit: (code) => (exitCode = code) }).copyInheritedSettings(program));
  await program.parseAsync(['node', 'swarmbank', 'memory', ...args]);
  return { out, exitCode };
}

function embedding(seed: number): Float32Array {
  return Float32Array.from({ length: DIMENSIONS }, (_, i) => Math.sin(seed * 7 + i * 3));
}

function pattern(id: string, seed: number, overrides: Partial<PatternInput> = {}): PatternInput {
  return {
    id,
    embedding: embedding(seed),
    outcome: seed % 2 === 0 ? 'up' : 'down',
    confidence: 0.4 + (seed % 6) / 10,
    support: 3 + seed,
    successes: 2 + seed,
    origin: seed % 3 === 0 ? 'agent-1' : 'agent-2',
    tags: seed % 2 === 0 ? ['bullish_reversal'] : ['support_level'],
    ...(seed % 4 === 0 ? { condition: 'trending' } : {}),
    ...overrides,
  };
}

async function withStore<T>(dir: string, use: (m: PatternMemory) => Promise<T>, featureSpaceId = SPACE): Promise<T> {
  const m = await openPatternMemory({ path: dir, dimensions: DIMENSIONS, featureSpaceId });
  try {
    return await use(m);
  } finally {
    await m.close();
  }
}

/** A memory of 12 distinct patterns plus two near-duplicates of p00 and one weak pattern, with a snapshot in its history. */
async function plantedMemory(dir = path.join(tempDir(), 'agent-1')): Promise<string> {
  await withStore(dir, async (m) => {
    await m.upsertMany(Array.from({ length: 12 }, (_, i) => pattern(`p${String(i).padStart(2, '0')}`, i)));
    await m.takeSnapshot();
    const twin = embedding(0).map((x, i) => x + (i === 0 ? 0.001 : 0));
    await m.upsert(pattern('p00-twin', 0, { embedding: twin, support: 2, successes: 1 }));
    await m.upsert(pattern('weak', 50, { embedding: Float32Array.from([1, -1, 0.5, 0.2, -0.7, 0.3]), support: 0, successes: 0, confidence: 0.1 }));
    await m.consolidate(['p03']);
    await m.delete('p11');
  });
  return dir;
}

async function state(dir: string): Promise<{ lastSeq: number; count: number; ids: string[] }> {
  return withStore(dir, async (m) => ({ lastSeq: m.lastSeq(), count: m.count(), ids: [...m.iterate()].map((p) => p.id) }));
}

describe('swarmbank memory inspect', () => {
  it('prints counts, bytes, the journal, the latest snapshot, top patterns by support, origins, conditions and the integrity check', async () => {
    const dir = await plantedMemory();
    const { out, exitCode } = await memory('inspect', '--data', dir, '--top', '3');
    expect(exitCode).toBe(0);
    expect(out).toMatch(`pattern memory ${dir}`);
    expect(out).toMatch(`feature space ${SPACE}, ${DIMENSIONS} dimensions`);
    expect(out).toMatch(/patterns: 13\n/);
    expect(out).toMatch(/bytes: patterns \d/);
    expect(out).toMatch(/journal: 16 events kept \(seq 1\.\.16\), last seq 16; upsert 14, consolidate 1, delete 1/);
    expect(out).toMatch(/latest snapshot: seq 12, 12 patterns, taken \d{4}-/);
    expect(out).toMatch(/integrity: ok \(13 patterns, 4 journal events replayed onto snapshot 12\)/);
    expect(out).toMatch(/top 3 patterns by support\nid\s+outcome\s+support/);
    expect(out).toMatch(/p10\s+up\s+13\s+12\s+0\.800\s+1\s+agent-2\s+\s+bullish_reversal/);
    expect(out).toMatch(/patterns per origin\norigin\s+patterns[^\n]*\n-[^\n]*\nagent-2\s+8\s+58\s+0\.600\nagent-1\s+5\s/);
    expect(out).toMatch(/patterns per condition[\s\S]*\(none\)\s+9\s+4\s+5\ntrending\s+4\s+4\s+0\n/);
  });

  it('prints the inspection as one JSON object with --json', async () => {
    const dir = await plantedMemory();
    const inspection = JSON.parse((await memory('inspect', '--data', dir, '--json')).out);
    expect(inspection).toMatchObject({ patterns: 13, dimensions: DIMENSIONS, featureSpaceId: SPACE, journal: { events: 16, lastSeq: 16 }, integrity: { ok: true } });
    expect(inspection.top).toHaveLength(10);
    expect(inspection.top[0]).toMatchObject({ id: 'p10', support: 13, origin: 'agent-2', tags: ['bullish_reversal'] });
    expect(inspection.latestSnapshot).toMatchObject({ seq: 12, count: 12 });
  });

  it('exits 1 when the integrity check finds a problem', async () => {
    const dir = await plantedMemory();
    const dbs = openDatabases(dir);
    await dbs.patterns.remove('p05');
    await dbs.root.close();
    const { out, exitCode } = await memory('inspect', '--data', dir);
    expect(exitCode).toBe(1);
    expect(out).toMatch(/integrity: FAILED/);
    expect(out).toMatch(/pattern "p05" is produced by the journal but not stored/);
  });

  it('refuses a memory whose data.mdb is truncated with a MEMORY_DIRECTORY error naming the damage, instead of crashing', async () => {
    const dir = await plantedMemory();
    fs.truncateSync(path.join(dir, 'data.mdb'), 8192);
    await expect(memory('inspect', '--data', dir)).rejects.toMatchObject({
      code: 'MEMORY_DIRECTORY',
      message: expect.stringMatching(/: holds a damaged pattern memory \(data\.mdb: 8192 bytes, truncated: its newest meta page \(txn \d+\) uses \d+ bytes\)$/),
    });
  });

  it('refuses a missing directory, a directory without a memory, a deployment directory and its actor journal, naming the problem', async () => {
    const missing = path.join(tempDir(), 'nope');
    await expect(memory('inspect', '--data', missing)).rejects.toMatchObject({ code: 'MEMORY_DIRECTORY', message: `${missing}: does not exist` });
    expect(fs.existsSync(missing)).toBe(false);
    await expect(memory('inspect', '--data', tempDir())).rejects.toThrow(/holds no pattern memory \(no data\.mdb\)/);
    const deployment = tempDir();
    await plantedMemory(path.join(deployment, 'agents', 'agent-1'));
    await expect(memory('inspect', '--data', deployment)).rejects.toThrow(/is a deployment data directory, not one memory; pick an agent's: --data \S+agent-1 \(agents: agent-1\)/);
    fs.mkdirSync(path.join(deployment, 'journal'));
    fs.writeFileSync(path.join(deployment, 'journal', 'data.mdb'), '');
    await expect(memory('inspect', '--data', path.join(deployment, 'journal'))).rejects.toThrow(/is a deployment's actor journal, not a pattern memory/);
  });
});

describe('swarmbank memory export and import', () => {
  it('exports the selected patterns to a bundle that another memory of the feature space imports', async () => {
    const dir = await plantedMemory();
    const file = path.join(tempDir(), 'bullish.bundle');
    const exported = await memory('export', '--data', dir, '--out', file, '--tag', 'bullish_reversal', '--min-confidence', '0.5');
    expect(exported.out).toMatch(new RegExp(`^exported 4 of 13 patterns to ${file} \\(\\d+(\\.\\d)? (B|KiB); feature space ${SPACE}, ${DIMENSIONS} dimensions; sha256 [0-9a-f]{16}…\\)`));

    const target = path.join(tempDir(), 'agent-2');
    await withStore(target, async (m) => void (await m.upsert(pattern('p02', 99))));
    const imported = await memory('import', '--data', target, '--in', file);
    expect(imported.out).toMatch(/^imported 4 of the bundle's 4 patterns from \S+: 3 new, 1 updated; the memory holds 4 patterns/);
    expect((await state(target)).ids).toEqual(['p02', 'p04', 'p08', 'p10']);
  });

  it('imports selectively with the same filters, and refuses filters without --selective', async () => {
    const file = path.join(tempDir(), 'all.bundle');
    await memory('export', '--data', await plantedMemory(), '--out', file);
    const target = path.join(tempDir(), 'agent-3');
    await withStore(target, async () => undefined);
    const { out } = await memory('import', '--data', target, '--in', file, '--selective', '--origin', 'agent-1', '--tag', 'support_level');
    expect(out).toMatch(/^imported 2 of the bundle's 13 patterns from \S+ \(11 left out by the selection\): 2 new, 0 updated/);
    expect((await state(target)).ids).toEqual(['p03', 'p09']);
    await expect(memory('import', '--data', target, '--in', file, '--tag', 'x')).rejects.toMatchObject({ message: 'error: --tag, --min-confidence and --origin apply only with --selective' });
    await expect(memory('import', '--data', target, '--in', file, '--selective')).rejects.toMatchObject({ exitCode: 1 });
  });

  it('refuses a bad bundle whole with one line naming the problem, and leaves the memory unchanged', async () => {
    const source = await plantedMemory();
    const good = path.join(tempDir(), 'good.bundle');
    await memory('export', '--data', source, '--out', good);
    const target = await plantedMemory();
    const before = await state(target);

    const damaged = path.join(tempDir(), 'damaged.bundle');
    const bytes = fs.readFileSync(good);
    bytes[bytes.length - 3] = bytes[bytes.length - 3]! ^ 0xff;
    fs.writeFileSync(damaged, bytes);
    await expect(memory('import', '--data', target, '--in', damaged)).rejects.toMatchObject({
      code: 'BUNDLE_CHECKSUM',
      message: `${damaged}: the bundle body does not match the header checksum`,
    });

    const foreign = path.join(tempDir(), 'foreign.bundle');
    await withStore(path.join(tempDir(), 'other'), async (m) => {
      await m.upsert(pattern('x', 1, { featureSpaceId: 'other-space' }));
      fs.writeFileSync(foreign, exportBundle(m));
    }, 'other-space');
    await expect(memory('import', '--data', target, '--in', foreign)).rejects.toMatchObject({
      code: 'BUNDLE_FEATURE_SPACE',
      message: `${foreign}: bundle header featureSpaceId is "other-space", the memory's is "${SPACE}"`,
    });
    await expect(memory('import', '--data', target, '--in', path.join(tempDir(), 'missing.bundle'))).rejects.toMatchObject({ code: 'BUNDLE_FILE' });
    expect(await state(target)).toEqual(before);
  });
});

describe('swarmbank memory distill', () => {
  it('shows the plan with --dry-run and writes nothing, then merges near-duplicates and prunes weak patterns', async () => {
    const dir = await plantedMemory();
    const before = await state(dir);
    const dry = await memory('distill', '--data', dir, '--dry-run');
    expect(dry.out).toMatch(/^dry run \(similarity ≥ 0\.97, min support 2, min confidence 0\.5\): would merge 1 patterns into 1, prune 3; patterns 13 → 9/);
    expect(dry.out).toMatch(/nothing was written\n {2}p00 ← p00-twin\n/);
    expect(await state(dir)).toEqual(before);

    const { out } = await memory('distill', '--data', dir, '--min-confidence', '0.3');
    expect(out).toMatch(/^distilled \(similarity ≥ 0\.97, min support 2, min confidence 0\.3\): merged 1 patterns into 1, pruned 1; patterns 13 → 11; pattern pages .* \(reduction -?\d+\.\d%\)/);
    const after = await state(dir);
    expect(after.ids).not.toContain('p00-twin');
    expect(after.ids).not.toContain('weak');
    expect(after.lastSeq).toBe(before.lastSeq + 2);
  });

  it('refuses a similarity out of range as a bad flag', async () => {
    await expect(memory('distill', '--data', tempDir(), '--similarity', '0')).rejects.toMatchObject({ code: 'commander.invalidArgument' });
  });
});

describe('swarmbank memory replay', () => {
  it('rebuilds the memory from its snapshot and journal in a fresh directory, byte-identical', async () => {
    const dir = await plantedMemory();
    const into = path.join(tempDir(), 'replayed');
    const { out, exitCode } = await memory('replay', '--data', dir, '--into', into);
    expect(exitCode).toBe(0);
    expect(out).toMatch(/: snapshot 12 \(12 patterns\) and the journal after it, 4 events; last seq 16 \(source 16\), 13 patterns \(source 13\)/);
    expect(out).toMatch(/verdict: match: the same 13 pattern ids with byte-identical records/);
    expect(await state(into)).toEqual(await state(dir));
  });

  it('exits 1 and names the difference when the memory no longer matches its journal', async () => {
    const dir = await plantedMemory();
    const dbs = openDatabases(dir);
    await dbs.patterns.remove('p07');
    await dbs.root.close();
    const { out, exitCode } = await memory('replay', '--data', dir, '--into', path.join(tempDir(), 'replayed'));
    expect(exitCode).toBe(1);
    expect(out).toMatch(/verdict: MISMATCH\n {2}- pattern "p07" is in the replayed memory only/);
  });

  it('refuses an --into directory that is not fresh', async () => {
    const into = tempDir();
    fs.writeFileSync(path.join(into, 'keep.txt'), 'mine');
    await expect(memory('replay', '--data', await plantedMemory(), '--into', into)).rejects.toMatchObject({ code: 'MEMORY_DIRECTORY', message: `${into}: is not a fresh directory: --into must be missing or empty` });
    expect(fs.readdirSync(into)).toEqual(['keep.txt']);
  });
});

describe('swarmbank memory, the installed command', () => {
  it('inspects a memory and replays it, and exits 2 with one line on a missing directory or a bad bundle', async () => {
    const dir = await plantedMemory();
    const inspected = await exec(process.execPath, ['bin/swarmbank.js', 'memory', 'inspect', '--data', dir, '--json']);
    expect(JSON.parse(inspected.stdout)).toMatchObject({ patterns: 13, integrity: { ok: true } });
    const replayed = await exec(process.execPath, ['bin/swarmbank.js', 'memory', 'replay', '--data', dir, '--into', path.join(tempDir(), 'r')]);
    expect(replayed.stdout).toMatch(/verdict: match/);

    const missing = await exec(process.execPath, ['bin/swarmbank.js', 'memory', 'inspect', '--data', path.join(tempDir(), 'nope')]).catch((e: { code: number; stderr: string }) => e);
    expect(missing).toMatchObject({ code: 2 });
    expect((missing as { stderr: string }).stderr.trim().split('\n')).toHaveLength(1);
    expect((missing as { stderr: string }).stderr).toMatch(/nope: does not exist/);

    const junk = path.join(tempDir(), 'junk.bundle');
    fs.writeFileSync(junk, 'not a bundle');
    const bad = await exec(process.execPath, ['bin/swarmbank.js', 'memory', 'import', '--data', dir, '--in', junk]).catch((e: { code: number; stderr: string }) => e);
    expect(bad).toMatchObject({ code: 2 });
    expect((bad as { stderr: string }).stderr.trim().split('\n')).toHaveLength(1);
    expect((bad as { stderr: string }).stderr).toMatch(/junk\.bundle: /);
  });
});
