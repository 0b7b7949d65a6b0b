import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { open } from 'lmdb';
import type { Pattern, PatternInput } from '../src/memory/pattern.js';
import { openPatternMemory } from '../src/memory/store.js';

/**
 * Write and read throughput of the pattern memory against better-sqlite3
 * (the storage existing ReasoningBank implementations use) and plain lmdb
 * (a floor: no journal, no versions, no validation), all measured in this
 * run on the same seeded patterns; disk bytes per pattern; and how long a
 * 100k-pattern memory takes to reopen and to rebuild from snapshot + journal.
 *
 * What the get figures mean: swarmbank keeps a read-through cache of decoded
 * patterns, filled by its own writes, so "gets/s" after a load reads that
 * cache; "cold gets/s" is the first pass after a reopen, every get decoding
 * from LMDB. SQLite and plain lmdb decode every get. "gets into/s" is
 * swarmbank's `getInto` on the same probes: the same copy, but into one
 * reused Float32Array instead of a fresh buffer per get.
 *
 * What the upsert figures mean: swarmbank and plain lmdb fsync every commit
 * (lmdb's default), so a batch is on disk when its promise resolves.
 * better-sqlite3 in WAL mode runs with synchronous=NORMAL, the default its
 * build compiles in (SQLITE_DEFAULT_WAL_SYNCHRONOUS=1 in its
 * deps/defines.gypi): a commit is not fsynced, and a power loss or OS crash
 * may undo the latest commits, though never corrupt the file. The
 * `better-sqlite3 full` row sets synchronous=FULL, which fsyncs the WAL on
 * every commit, as swarmbank does; the run prints the setting each row had.
 */

interface SqliteStatement {
  run(...params: unknown[]): unknown;
  get(...params: unknown[]): unknown;
}

interface SqliteDatabase {
  pragma(source: string, options?: { readonly simple: boolean }): unknown;
  exec(source: string): unknown;
  prepare(source: string): SqliteStatement;
  transaction<A extends unknown[]>(fn: (...args: A) => void): (...args: A) => void;
  close(): void;
}

interface SqliteRow {
  id: string;
  embedding: Buffer;
  outcome: 'up' | 'down';
  confidence: number;
  support: number;
  successes: number;
  version: number;
  origin: string;
  feature_space_id: string;
  tags: string;
  condition: string | null;
  consolidated: number;
  plasticity: number;
  created_at: number;
  updated_at: number;
}

// better-sqlite3 ships no type declarations and @types is not a dependency; the few calls used are typed above.
const Sqlite = createRequire(import.meta.url)('better-sqlite3') as new (file: string) => SqliteDatabase;

const FEATURE_SPACE = 'bench-v1';
const BATCH = 1000;
const SEED = 20251127;

interface Throughput {
  readonly upserts: number;
  readonly gets: number;
  readonly getsInto?: number;
  readonly coldGets?: number;
  readonly bytesPerPattern: number;
}

type System = 'swarmbank' | 'better-sqlite3' | 'better-sqlite3 full' | 'lmdb';
const SYSTEMS: readonly System[] = ['swarmbank', 'better-sqlite3', 'better-sqlite3 full', 'lmdb'];

/** The `synchronous` setting each SQLite row ran with, as SQLite reported it after the writes. */
const sqliteSynchronous = new Map<System, number>();
const SYNCHRONOUS_NAMES = ['OFF', 'NORMAL', 'FULL', 'EXTRA'];

export async function run(args: readonly string[] = []): Promise<void> {
  const quick = args.includes('--quick');
  const count = quick ? 20_000 : 100_000;
  const repetitions = roundsOf(args);
  const reads = quick ? 100_000 : 300_000;
  const started = performance.now();
  console.log(
    `memory store: ${count} patterns, batches of ${BATCH}, ${reads} random gets, median of ${repetitions}, node ${process.version}, ${os.cpus().length} cores`,
  );
  console.log('dims  system               upserts/s      gets/s  gets into/s  cold gets/s  bytes/pattern');
  const results: Record<string, Record<System, Throughput>> = {};
  for (const dimensions of [64, 384]) {
    const inputs = makeInputs(count, dimensions, SEED + dimensions);
    const probes = makeProbes(inputs, reads, SEED);
    const runs: Record<System, Throughput[]> = { swarmbank: [], 'better-sqlite3': [], 'better-sqlite3 full': [], lmdb: [] };
    for (let rep = 0; rep < repetitions; rep++) {
      // Rotating the order spreads page-cache and JIT warm-up effects over every system.
      for (let k = 0; k < SYSTEMS.length; k++) {
        const system = SYSTEMS[(k + rep) % SYSTEMS.length] as System;
        runs[system].push(await measure(system, inputs, probes, dimensions));
      }
    }
    const medians = Object.fromEntries(SYSTEMS.map((system) => [system, medianOf(runs[system])])) as Record<System, Throughput>;
    results[String(dimensions)] = medians;
    for (const system of SYSTEMS) {
      const m = medians[system];
      console.log(
        `${String(dimensions).padEnd(5)} ${system.padEnd(19)} ${rate(m.upserts).padStart(10)} ${rate(m.gets).padStart(11)} ${(m.getsInto === undefined ? '-' : rate(m.getsInto)).padStart(12)} ${(m.coldGets === undefined ? '-' : rate(m.coldGets)).padStart(12)}  ${m.bytesPerPattern.toFixed(0).padStart(13)}`,
      );
    }
    const ours = medians.swarmbank;
    const sqlite = medians['better-sqlite3'];
    console.log(
      `      swarmbank / sqlite: upserts ×${(ours.upserts / sqlite.upserts).toFixed(2)}, gets ×${(ours.gets / sqlite.gets).toFixed(2)}, gets into ×${((ours.getsInto ?? 0) / sqlite.gets).toFixed(2)}, cold gets ×${((ours.coldGets ?? 0) / sqlite.gets).toFixed(2)}; upserts vs sqlite full ×${(ours.upserts / medians['better-sqlite3 full'].upserts).toFixed(2)}`,
    );
    // Each round measures every system back to back, so its own ratio is spared the drift of a shared machine between rounds.
    for (const baseline of ['better-sqlite3', 'better-sqlite3 full'] as const) {
      const ratios = runs.swarmbank.map((r, round) => r.upserts / (runs[baseline][round] as Throughput).upserts);
      console.log(
        `      upserts / ${baseline} round by round: ${ratios.map((r) => `×${r.toFixed(2)}`).join(' ')}, median ×${median(ratios).toFixed(2)}`,
      );
    }
  }
  const settings = [...sqliteSynchronous].map(([system, level]) => `${system}: synchronous=${SYNCHRONOUS_NAMES[level] ?? level}`);
  console.log(`durability: swarmbank and lmdb fsync every commit; ${settings.join(', ')} (WAL mode; NORMAL does not fsync on commit)`);
  const recovery = await measureRecovery(count, 64, repetitions);
  console.log(
    `recovery of ${count} × 64 (snapshot at ${recovery.snapshotSeq}, tail of ${recovery.tail} events): reopen ${ms(recovery.reopenMs)}, reopen + iterate all ${ms(recovery.iterateMs)}, rebuild from snapshot + journal ${ms(recovery.rebuildMs)}`,
  );
  console.log(`total ${ms(performance.now() - started)}`);
  console.log(JSON.stringify({ bench: 'memory-store', count, batch: BATCH, repetitions, reads, results, recovery }));
}

async function measure(system: System, inputs: readonly PatternInput[], probes: readonly string[], dimensions: number): Promise<Throughput> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `swarmbank-bench-${system}-`));
  try {
    if (system === 'swarmbank') return await measureSwarmbank(dir, inputs, probes, dimensions);
    if (system === 'lmdb') return await measureLmdb(dir, inputs, probes);
    return measureSqlite(dir, inputs, probes, system);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function measureSwarmbank(dir: string, inputs: readonly PatternInput[], probes: readonly string[], dimensions: number): Promise<Throughput> {
  let memory = await openPatternMemory({ path: dir, dimensions, featureSpaceId: FEATURE_SPACE });
  const writeStart = performance.now();
  for (let i = 0; i < inputs.length; i += BATCH) await memory.upsertMany(inputs.slice(i, i + BATCH));
  const upserts = inputs.length / seconds(writeStart);
  const gets = getRate(probes, (id) => memory.get(id));
  const into = new Float32Array(dimensions);
  const getsInto = getRate(probes, (id) => memory.getInto(id, into));
  await memory.close();
  memory = await openPatternMemory({ path: dir, dimensions, featureSpaceId: FEATURE_SPACE });
  const coldGets = getRate(probes.slice(0, Math.min(probes.length, inputs.length)), (id) => memory.get(id));
  await memory.close();
  return { upserts, gets, getsInto, coldGets, bytesPerPattern: fs.statSync(path.join(dir, 'data.mdb')).size / inputs.length };
}

async function measureLmdb(dir: string, inputs: readonly PatternInput[], probes: readonly string[]): Promise<Throughput> {
  const root = open({ path: dir, noSubdir: false });
  // moreTypes keeps the Float32Array a Float32Array, as swarmbank returns it.
  const typed = { encoder: { moreTypes: true } } as const;
  const db = root.openDB<Record<string, unknown>, string>({ name: 'patterns', ...typed });
  const at = Date.now();
  const writeStart = performance.now();
  for (let i = 0; i < inputs.length; i += BATCH) {
    let last: Promise<boolean> | undefined;
    for (const input of inputs.slice(i, i + BATCH)) last = db.put(input.id, { ...input, version: 1, createdAt: at, updatedAt: at });
    await last;
  }
  const upserts = inputs.length / seconds(writeStart);
  const gets = getRate(probes, (id) => db.get(id));
  await root.close();
  return { upserts, gets, bytesPerPattern: fs.statSync(path.join(dir, 'data.mdb')).size / inputs.length };
}

function measureSqlite(dir: string, inputs: readonly PatternInput[], probes: readonly string[], system: System): Throughput {
  const file = path.join(dir, 'patterns.db');
  const db = new Sqlite(file);
  db.pragma('journal_mode = WAL');
  if (system === 'better-sqlite3 full') db.pragma('synchronous = FULL');
  db.exec(`CREATE TABLE patterns (
    id TEXT PRIMARY KEY, embedding BLOB NOT NULL, outcome TEXT NOT NULL, confidence REAL NOT NULL, support INTEGER NOT NULL,
    successes INTEGER NOT NULL, version INTEGER NOT NULL, origin TEXT NOT NULL, feature_space_id TEXT NOT NULL, tags TEXT NOT NULL,
    condition TEXT, consolidated INTEGER NOT NULL, plasticity REAL NOT NULL, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL)`);
  const insert = db.prepare('INSERT INTO patterns VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)');
  const select = db.prepare('SELECT * FROM patterns WHERE id = ?');
  const at = Date.now();
  const writeBatch = db.transaction((batch: readonly PatternInput[]) => {
    for (const p of batch) {
      insert.run(
        p.id,
        Buffer.from(p.embedding.buffer, p.embedding.byteOffset, p.embedding.byteLength),
        p.outcome,
        p.confidence,
        p.support,
        p.successes,
        1,
        p.origin,
        FEATURE_SPACE,
        JSON.stringify(p.tags ?? []),
        p.condition ?? null,
        0,
        1,
        at,
        at,
      );
    }
  });
  const writeStart = performance.now();
  for (let i = 0; i < inputs.length; i += BATCH) writeBatch(inputs.slice(i, i + BATCH));
  const upserts = inputs.length / seconds(writeStart);
  // Read after the writes: SQLite applies its WAL default once the first transaction ran in WAL mode.
  sqliteSynchronous.set(system, db.pragma('synchronous', { simple: true }) as number);
  const gets = getRate(probes, (id) => {
    const row = select.get(id) as SqliteRow | undefined;
    return row === undefined ? undefined : fromRow(row);
  });
  db.close();
  return { upserts, gets, bytesPerPattern: fs.statSync(file).size / inputs.length };
}

/** A decoded pattern, as a SQLite-backed memory would return it. */
function fromRow(row: SqliteRow): Pattern {
  const embedding = new Float32Array(row.embedding.byteLength / 4);
  new Uint8Array(embedding.buffer).set(row.embedding);
  return {
    id: row.id,
    embedding,
    outcome: row.outcome,
    confidence: row.confidence,
    support: row.support,
    successes: row.successes,
    version: row.version,
    origin: row.origin,
    featureSpaceId: row.feature_space_id,
    tags: JSON.parse(row.tags) as string[],
    ...(row.condition === null ? {} : { condition: row.condition }),
    consolidated: row.consolidated === 1,
    plasticity: row.plasticity,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

interface Recovery {
  readonly snapshotSeq: number;
  readonly tail: number;
  readonly reopenMs: number;
  readonly iterateMs: number;
  readonly rebuildMs: number;
}

async function measureRecovery(count: number, dimensions: number, repetitions: number): Promise<Recovery> {
  const inputs = makeInputs(count, dimensions, SEED);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'swarmbank-bench-recovery-'));
  try {
    const memory = await openPatternMemory({ path: dir, dimensions, featureSpaceId: FEATURE_SPACE });
    const tail = Math.round(count / 10);
    for (let i = 0; i < count - tail; i += BATCH) await memory.upsertMany(inputs.slice(i, Math.min(i + BATCH, count - tail)));
    const snapshot = await memory.takeSnapshot();
    for (let i = count - tail; i < count; i += BATCH) await memory.upsertMany(inputs.slice(i, i + BATCH));
    await memory.close();

    const reopen: number[] = [];
    const iterate: number[] = [];
    const rebuild: number[] = [];
    for (let rep = 0; rep < repetitions; rep++) {
      let start = performance.now();
      const reopened = await openPatternMemory({ path: dir, dimensions, featureSpaceId: FEATURE_SPACE });
      if (reopened.count() !== count) throw new Error(`reopened memory holds ${reopened.count()} patterns, not ${count}`);
      reopen.push(performance.now() - start);
      let seen = 0;
      for (const pattern of reopened.iterate()) seen += pattern.embedding.length > 0 ? 1 : 0;
      iterate.push(performance.now() - start);
      if (seen !== count) throw new Error(`iterated ${seen} patterns, not ${count}`);

      const target = fs.mkdtempSync(path.join(os.tmpdir(), 'swarmbank-bench-rebuild-'));
      try {
        start = performance.now();
        const rebuilt = await openPatternMemory({ path: target, dimensions, featureSpaceId: FEATURE_SPACE });
        await rebuilt.restore(reopened.recoverySource());
        rebuild.push(performance.now() - start);
        if (rebuilt.count() !== count) throw new Error(`rebuilt memory holds ${rebuilt.count()} patterns, not ${count}`);
        await rebuilt.close();
      } finally {
        fs.rmSync(target, { recursive: true, force: true });
      }
      await reopened.close();
    }
    return { snapshotSeq: snapshot.seq, tail, reopenMs: median(reopen), iterateMs: median(iterate), rebuildMs: median(rebuild) };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function getRate(probes: readonly string[], get: (id: string) => unknown): number {
  let found = 0;
  const start = performance.now();
  for (const id of probes) if (get(id) !== undefined) found++;
  const rate = probes.length / seconds(start);
  if (found !== probes.length) throw new Error(`${probes.length - found} of ${probes.length} gets found nothing`);
  return rate;
}

/** Seeded patterns with the shape agents write: random unit-range embedding, a tag or two, half with a condition. */
function makeInputs(count: number, dimensions: number, seed: number): PatternInput[] {
  const next = xorshift(seed);
  const inputs: PatternInput[] = [];
  for (let i = 0; i < count; i++) {
    const embedding = new Float32Array(dimensions);
    for (let j = 0; j < dimensions; j++) embedding[j] = next() * 2 - 1;
    const support = Math.floor(next() * 50) + 1;
    inputs.push({
      id: `pattern-${i.toString(36).padStart(6, '0')}`,
      embedding,
      outcome: next() < 0.5 ? 'up' : 'down',
      confidence: next(),
      support,
      successes: Math.floor(next() * support),
      origin: `agent-${i % 20}`,
      tags: next() < 0.5 ? ['bullish_reversal'] : ['support_level', 'trending'],
      ...(next() < 0.5 ? { condition: 'volatile' } : {}),
    });
  }
  return inputs;
}

function makeProbes(inputs: readonly PatternInput[], reads: number, seed: number): string[] {
  const next = xorshift(seed ^ 0x5bd1e995);
  return Array.from({ length: reads }, () => (inputs[Math.floor(next() * inputs.length)] as PatternInput).id);
}

function xorshift(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 4294967296;
  };
}

/** `--rounds N`: how many rounds each system is measured in; the figures are their medians. Default 3. */
function roundsOf(args: readonly string[]): number {
  const at = args.indexOf('--rounds');
  if (at < 0) return 3;
  const rounds = Number(args[at + 1]);
  if (!Number.isSafeInteger(rounds) || rounds < 1) throw new RangeError(`--rounds needs a positive whole number, got ${args[at + 1] ?? 'nothing'}`);
  return rounds;
}

function medianOf(runs: readonly Throughput[]): Throughput {
  const cold = runs.map((r) => r.coldGets).filter((r): r is number => r !== undefined);
  const into = runs.map((r) => r.getsInto).filter((r): r is number => r !== undefined);
  return {
    upserts: median(runs.map((r) => r.upserts)),
    gets: median(runs.map((r) => r.gets)),
    ...(into.length === 0 ? {} : { getsInto: median(into) }),
    ...(cold.length === 0 ? {} : { coldGets: median(cold) }),
    bytesPerPattern: median(runs.map((r) => r.bytesPerPattern)),
  };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

function seconds(since: number): number {
  return (performance.now() - since) / 1000;
}

function rate(perSecond: number): string {
  return perSecond >= 1e6 ? `${(perSecond / 1e6).toFixed(2)}M` : `${(perSecond / 1e3).toFixed(1)}k`;
}

function ms(value: number): string {
  return value >= 1000 ? `${(value / 1000).toFixed(2)} s` : `${value.toFixed(0)} ms`;
}
