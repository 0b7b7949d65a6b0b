import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { samePattern } from '../../src/memory/codec.js';
import type { Pattern } from '../../src/memory/pattern.js';
import { openPatternMemory } from '../../src/memory/store.js';
import { createRandom, type Random } from '../../src/random.js';
import { exited, forkFixture, isReady, nextMessage } from './children.js';
import { CRASH_BATCH_SIZE, crashBatch } from './fixtures/inputs.js';
import { FEATURE_SPACE } from './support.js';

const RUNS = 20;
const PARALLEL = 4;

interface CrashOutcome {
  readonly reported: number;
  readonly kept: number;
}

const isCommitted = (message: unknown): message is { committed: number } =>
  typeof message === 'object' && message !== null && typeof (message as { committed?: unknown }).committed === 'number';

/**
 * Starts the crash writer, kills it with SIGKILL at a seeded moment (a delay
 * after it is ready, or right after its n-th commit report), then reopens
 * the memory and checks it. Returns the highest commit the writer reported
 * and the highest transaction found.
 */
async function crashOnce(random: Random): Promise<CrashOutcome> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'swarmbank-crash-'));
  try {
    const child = forkFixture('crash-writer.ts', [dir]);
    let reported = -1;
    child.on('message', (message) => {
      if (isCommitted(message)) reported = Math.max(reported, message.committed);
    });
    try {
      await nextMessage(child, isReady);
      if (random.next() < 0.5) {
        await new Promise((resolve) => setTimeout(resolve, random.int(0, 150)));
      } else {
        const after = random.int(0, 60);
        await nextMessage(child, (message): message is { committed: number } => isCommitted(message) && message.committed >= after);
      }
    } finally {
      child.kill('SIGKILL');
    }
    expect((await exited(child)).signal).toBe('SIGKILL');
    return await inspect(dir, reported);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function inspect(dir: string, reported: number): Promise<CrashOutcome> {
  const memory = await openPatternMemory({ path: dir, dimensions: 8, featureSpaceId: FEATURE_SPACE });
  try {
    const report = memory.checkIntegrity();
    expect(report.problems).toEqual([]);

    const stored = new Map([...memory.iterate()].map((pattern) => [pattern.id, pattern]));
    const kept = (memory.get('counter')?.support ?? 0) - 1;
    // Every transaction the writer saw commit is there; later ones may have committed before their report left the process.
    expect(kept).toBeGreaterThanOrEqual(reported);
    for (let txn = 0; txn <= kept; txn++) {
      const batch = crashBatch(txn).slice(0, CRASH_BATCH_SIZE);
      for (const input of batch) {
        const pattern = stored.get(input.id);
        expect(pattern, input.id).toBeDefined();
        expect(samePattern(pattern as Pattern, { ...(pattern as Pattern), ...input, tags: input.tags ?? [] })).toBe(true);
      }
    }
    // Nothing of a later transaction: no half-written batch.
    expect(stored.size).toBe((kept + 1) * CRASH_BATCH_SIZE + (kept >= 0 ? 1 : 0));
    expect(memory.lastSeq()).toBe((kept + 1) * (CRASH_BATCH_SIZE + 1));
    expect(memory.get('counter')?.version ?? 0).toBe(kept + 1);
    return { reported, kept };
  } finally {
    await memory.close();
  }
}

describe('pattern memory crash safety', () => {
  it(`holds exactly the committed transactions after ${RUNS} SIGKILLs at seeded random moments (seed 4242)`, async () => {
    const random = createRandom(4242);
    const plans = Array.from({ length: RUNS }, (_, run) => random.fork(`run-${run}`));
    const outcomes: CrashOutcome[] = [];
    for (let start = 0; start < RUNS; start += PARALLEL) {
      outcomes.push(...(await Promise.all(plans.slice(start, start + PARALLEL).map(crashOnce))));
    }
    // The kill points spread over the writer's life: some before much was written, some well into it.
    const kept = outcomes.map((outcome) => outcome.kept);
    expect(Math.max(...kept)).toBeGreaterThan(20);
    expect(new Set(kept).size).toBeGreaterThan(5);
  }, 60_000);
});
