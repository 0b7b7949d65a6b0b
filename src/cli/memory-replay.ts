import fs from 'node:fs';
import path from 'node:path';
import { openDatabases } from '../memory/databases.js';
import type { JournalEvent } from '../memory/journal.js';
import { openPatternMemory, type RestoreSource, type SnapshotInfo } from '../memory/store.js';
import { MemoryDirectoryError, openExistingMemory } from './memory-open.js';

export interface ReplayVerdict {
  readonly source: string;
  readonly into: string;
  readonly match: boolean;
  /** The snapshot the rebuild started from, if the source had one. */
  readonly snapshot: SnapshotInfo | null;
  readonly events: number;
  readonly lastSeq: { readonly source: number; readonly replayed: number };
  readonly patterns: { readonly source: number; readonly replayed: number };
  /** The first differences found; empty when the memories match. */
  readonly problems: readonly string[];
}

const MAX_PROBLEMS = 10;

/**
 * Rebuilds the memory at `dir` in the fresh directory `into` from its
 * recovery source (newest snapshot, then the journal after it), then checks
 * that the rebuilt memory reached the same sequence number, passes its
 * integrity check, and holds the same pattern ids with byte-identical
 * records, compared in the patterns databases once both memories are closed.
 */
export async function replayInto(dir: string, into: string): Promise<ReplayVerdict> {
  if (fs.existsSync(into) && (!fs.statSync(into).isDirectory() || fs.readdirSync(into).length > 0)) {
    throw new MemoryDirectoryError(into, 'is not a fresh directory: --into must be missing or empty');
  }
  const source = await openExistingMemory(dir);
  const problems: string[] = [];
  let snapshot: SnapshotInfo | null = null;
  let events = 0;
  let lastSeq = { source: 0, replayed: 0 };
  let patterns = { source: 0, replayed: 0 };
  try {
    const target = await openPatternMemory({ path: into, dimensions: source.dimensions, featureSpaceId: source.featureSpaceId, cacheSize: 0 });
    try {
      const recovery = source.recoverySource();
      snapshot = recovery.snapshot?.info ?? null;
      const counted: RestoreSource = { ...recovery, events: counting(recovery.events, () => events++) };
      try {
        await target.restore(counted);
      } catch (error) {
        problems.push(`the journal could not be replayed: ${error instanceof Error ? error.message : String(error)}`);
      }
      lastSeq = { source: source.lastSeq(), replayed: target.lastSeq() };
      patterns = { source: source.count(), replayed: target.count() };
      if (lastSeq.source !== lastSeq.replayed) problems.push(`the replayed memory ends at seq ${lastSeq.replayed}, the source at ${lastSeq.source}`);
      const integrity = target.checkIntegrity();
      for (const problem of integrity.problems) problems.push(`the replayed memory fails its integrity check: ${problem}`);
    } finally {
      await target.close();
    }
  } finally {
    await source.close();
  }
  if (problems.length === 0) problems.push(...(await compareRecords(dir, into)));
  return { source: dir, into, match: problems.length === 0, snapshot, events, lastSeq, patterns, problems: problems.slice(0, MAX_PROBLEMS) };
}

async function* counting(events: AsyncIterable<JournalEvent> | Iterable<JournalEvent>, count: () => void): AsyncGenerator<JournalEvent> {
  for await (const event of events) {
    count();
    yield event;
  }
}

/**
 * Differences between the patterns databases of two closed memories: ids
 * present in one only, and records that differ by a byte. Both are walked in
 * LMDB's key order, which is the same for both, so equal id sets line up.
 */
async function compareRecords(a: string, b: string): Promise<string[]> {
  const left = openDatabases(a);
  const right = openDatabases(b);
  const problems: string[] = [];
  try {
    const l = left.patterns.getRange()[Symbol.iterator]();
    const r = right.patterns.getRange()[Symbol.iterator]();
    for (let x = l.next(), y = r.next(); !x.done || !y.done; x = l.next(), y = r.next()) {
      if (x.done || y.done || x.value.key !== y.value.key) {
        const ids = (db: typeof left.patterns) => new Set(db.getKeys());
        const [only, other] = [ids(left.patterns), ids(right.patterns)];
        for (const id of only) if (!other.has(id)) problems.push(`pattern ${JSON.stringify(id)} is in the source only`);
        for (const id of other) if (!only.has(id)) problems.push(`pattern ${JSON.stringify(id)} is in the replayed memory only`);
        break;
      }
      if (!Buffer.from(x.value.value).equals(Buffer.from(y.value.value))) problems.push(`pattern ${JSON.stringify(x.value.key)} differs in its stored bytes`);
      if (problems.length >= MAX_PROBLEMS) break;
    }
  } finally {
    await Promise.all([left.root.close(), right.root.close()]);
  }
  return problems;
}

/** The verdict as printed; every figure is read from `verdict`. */
export function formatReplay(verdict: ReplayVerdict): string {
  const from = verdict.snapshot === null ? 'the whole journal' : `snapshot ${verdict.snapshot.seq} (${verdict.snapshot.count} patterns) and the journal after it`;
  const lines = [
    `replayed ${verdict.source} into ${verdict.into}: ${from}, ${verdict.events} events; ` +
      `last seq ${verdict.lastSeq.replayed} (source ${verdict.lastSeq.source}), ${verdict.patterns.replayed} patterns (source ${verdict.patterns.source})`,
    verdict.match
      ? `verdict: match: the same ${verdict.patterns.source} pattern ids with byte-identical records, and the replayed memory passes its integrity check`
      : 'verdict: MISMATCH',
    ...verdict.problems.map((problem) => `  - ${problem}`),
    '',
  ];
  return lines.join('\n');
}
