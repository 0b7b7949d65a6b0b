import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { open, type Key } from 'lmdb';
import { afterEach } from 'vitest';
import type { PatternInput } from '../../src/memory/pattern.js';
import { openPatternMemory, type PatternMemory, type PatternMemoryOptions } from '../../src/memory/store.js';
import type { Random } from '../../src/random.js';

export const DIMENSIONS = 8;
export const FEATURE_SPACE = 'ohlcv-returns-v1';

interface Closable {
  close(): Promise<void>;
}

/**
 * Unique temp directories and the stores opened in them, closed and removed
 * after each test, so test files can run in parallel.
 */
export function useMemoryFixture() {
  const dirs: string[] = [];
  const opened: Closable[] = [];
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((store) => store.close().catch(() => undefined)));
    for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
  });
  return {
    dir(): string {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'swarmbank-memory-'));
      dirs.push(dir);
      return dir;
    },
    track<T extends Closable>(store: T): T {
      opened.push(store);
      return store;
    },
    async open(options: Partial<PatternMemoryOptions> = {}): Promise<PatternMemory> {
      const memory = await openPatternMemory({
        path: options.path ?? this.dir(),
        dimensions: DIMENSIONS,
        featureSpaceId: FEATURE_SPACE,
        ...options,
      });
      return this.track(memory);
    },
  };
}

export function randomEmbedding(random: Random, dimensions = DIMENSIONS): Float32Array {
  return Float32Array.from({ length: dimensions }, () => random.next() * 2 - 1);
}

export function randomInput(random: Random, id: string, dimensions = DIMENSIONS): PatternInput {
  const support = random.int(0, 50);
  return {
    id,
    embedding: randomEmbedding(random, dimensions),
    outcome: random.next() < 0.5 ? 'up' : 'down',
    confidence: random.next(),
    support,
    successes: random.int(0, support),
    origin: `agent-${random.int(0, 3)}`,
    tags: random.next() < 0.5 ? ['bullish_reversal'] : ['support_level', 'trending'],
    ...(random.next() < 0.5 ? { condition: 'volatile' } : {}),
  };
}

export function input(id: string, overrides: Partial<PatternInput> = {}): PatternInput {
  return {
    id,
    embedding: Float32Array.from({ length: DIMENSIONS }, (_, i) => i / DIMENSIONS),
    outcome: 'up',
    confidence: 0.5,
    support: 10,
    successes: 6,
    origin: 'agent-1',
    tags: ['bullish_reversal'],
    ...overrides,
  };
}

export function sortedIds(memory: PatternMemory): string[] {
  return [...memory.iterate()].map((pattern) => pattern.id);
}

/** The raw bytes of every record in one named database, read after the memory is closed. */
export async function rawRecords(dir: string, name: string): Promise<Map<string, Buffer>> {
  const root = open({ path: dir, maxDbs: 8, noSubdir: false });
  try {
    const db = root.openDB<Buffer, Key>({ name, encoding: 'binary' });
    return new Map([...db.getRange()].map(({ key, value }) => [JSON.stringify(key), Buffer.from(value)]));
  } finally {
    await root.close();
  }
}

/** Overwrites one record with raw bytes, bypassing the memory; the memory must be closed. */
export async function writeRaw(dir: string, name: string, key: Key, bytes: Uint8Array): Promise<void> {
  const root = open({ path: dir, maxDbs: 8, noSubdir: false });
  try {
    await root.openDB<Buffer, Key>({ name, encoding: 'binary' }).put(key, Buffer.from(bytes));
  } finally {
    await root.close();
  }
}

/** A clock that moves only when told to, so timestamps and eviction order are reproducible. */
export function manualClock(start = 1_700_000_000_000) {
  let now = start;
  return {
    now: () => now,
    advance(ms: number) {
      now += ms;
    },
  };
}
