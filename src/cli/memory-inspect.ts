import path from 'node:path';
import type { IntegrityReport } from '../memory/integrity.js';
import type { Pattern } from '../memory/pattern.js';
import type { MemoryBytes, PatternMemory, SnapshotInfo } from '../memory/store.js';
import { fixed, table } from './format.js';

export interface MemoryInspection {
  readonly path: string;
  readonly featureSpaceId: string;
  readonly dimensions: number;
  readonly patterns: number;
  readonly bytes: MemoryBytes;
  readonly journal: {
    /** Events kept: those after the last compaction. */
    readonly events: number;
    readonly firstSeq: number | null;
    readonly lastSeq: number;
    readonly byType: Readonly<Record<string, number>>;
  };
  readonly latestSnapshot: SnapshotInfo | null;
  readonly integrity: IntegrityReport;
  readonly top: readonly TopPattern[];
  readonly perOrigin: readonly { readonly origin: string; readonly patterns: number; readonly support: number; readonly meanConfidence: number }[];
  readonly perCondition: readonly { readonly condition: string; readonly patterns: number; readonly up: number; readonly down: number }[];
}

interface TopPattern {
  readonly id: string;
  readonly outcome: string;
  readonly support: number;
  readonly successes: number;
  readonly confidence: number;
  readonly version: number;
  readonly origin: string;
  readonly condition: string | null;
  readonly tags: readonly string[];
  readonly consolidated: boolean;
}

/** What `memory inspect` reports, from one pass over the patterns and one over the journal. */
export async function inspectMemory(memory: PatternMemory, top: number): Promise<MemoryInspection> {
  const patterns = [...memory.iterate()];
  const byType: Record<string, number> = {};
  let events = 0;
  let firstSeq: number | null = null;
  for await (const event of memory.replay()) {
    firstSeq ??= event.seq;
    events++;
    byType[event.type] = (byType[event.type] ?? 0) + 1;
  }
  const origins = new Map<string, { patterns: number; support: number; confidence: number }>();
  const conditions = new Map<string, { patterns: number; up: number; down: number }>();
  for (const p of patterns) {
    const o = origins.get(p.origin) ?? { patterns: 0, support: 0, confidence: 0 };
    origins.set(p.origin, { patterns: o.patterns + 1, support: o.support + p.support, confidence: o.confidence + p.confidence });
    const key = p.condition ?? '(none)';
    const c = conditions.get(key) ?? { patterns: 0, up: 0, down: 0 };
    conditions.set(key, { patterns: c.patterns + 1, up: c.up + (p.outcome === 'up' ? 1 : 0), down: c.down + (p.outcome === 'down' ? 1 : 0) });
  }
  const byCount = <T extends { patterns: number }>(a: [string, T], b: [string, T]): number => b[1].patterns - a[1].patterns || a[0].localeCompare(b[0]);
  return {
    path: memory.path,
    featureSpaceId: memory.featureSpaceId,
    dimensions: memory.dimensions,
    patterns: memory.count(),
    bytes: memory.bytesUsed(),
    journal: { events, firstSeq, lastSeq: memory.lastSeq(), byType },
    latestSnapshot: memory.latestSnapshot() ?? null,
    integrity: memory.checkIntegrity(),
    top: [...patterns]
      .sort((a, b) => b.support - a.support || b.confidence - a.confidence || (a.id < b.id ? -1 : 1))
      .slice(0, top)
      .map(topPattern),
    perOrigin: [...origins].sort(byCount).map(([origin, o]) => ({ origin, patterns: o.patterns, support: o.support, meanConfidence: o.confidence / o.patterns })),
    perCondition: [...conditions].sort(byCount).map(([condition, c]) => ({ condition, ...c })),
  };
}

function topPattern(p: Pattern): TopPattern {
  return {
    id: p.id,
    outcome: p.outcome,
    support: p.support,
    successes: p.successes,
    confidence: p.confidence,
    version: p.version,
    origin: p.origin,
    condition: p.condition ?? null,
    tags: p.tags,
    consolidated: p.consolidated,
  };
}

/** The inspection as printed; every figure is read from `inspection`. */
export function formatInspection(inspection: MemoryInspection): string {
  const { bytes, journal, latestSnapshot: snapshot, integrity } = inspection;
  const types = Object.entries(journal.byType).map(([type, n]) => `${type} ${n}`);
  const lines = [
    `pattern memory ${inspection.path}`,
    `  feature space ${inspection.featureSpaceId}, ${inspection.dimensions} dimensions`,
    `  patterns: ${inspection.patterns}`,
    `  bytes: patterns ${byteSize(bytes.patterns)}, journal ${byteSize(bytes.journal)}, snapshots ${byteSize(bytes.snapshots)}, file ${byteSize(bytes.file)}`,
    `  journal: ${journal.events} events kept${journal.firstSeq === null ? '' : ` (seq ${journal.firstSeq}..${journal.lastSeq})`}, last seq ${journal.lastSeq}` +
      (types.length === 0 ? '' : `; ${types.join(', ')}`),
    `  latest snapshot: ${snapshot === null ? 'none' : `seq ${snapshot.seq}, ${snapshot.count} patterns, taken ${new Date(snapshot.createdAt).toISOString()}`}`,
    `  integrity: ${integrity.ok ? 'ok' : 'FAILED'} (${integrity.patterns} patterns, ${integrity.events} journal events replayed onto ${integrity.snapshotSeq === 0 ? 'an empty memory' : `snapshot ${integrity.snapshotSeq}`})`,
    ...integrity.problems.map((problem) => `    - ${problem}`),
    '',
    `top ${inspection.top.length} patterns by support`,
    ...table(
      ['id', 'outcome', 'support', 'successes', 'confidence', 'version', 'origin', 'condition', 'tags'],
      inspection.top.map((p) => [
        p.id,
        p.outcome,
        String(p.support),
        String(p.successes),
        fixed(p.confidence),
        String(p.version),
        p.origin,
        p.condition ?? '',
        `${p.tags.join(',')}${p.consolidated ? ' (consolidated)' : ''}`,
      ]),
    ),
    '',
    'patterns per origin',
    ...table(
      ['origin', 'patterns', 'support', 'mean confidence'],
      inspection.perOrigin.map((o) => [o.origin, String(o.patterns), String(o.support), fixed(o.meanConfidence)]),
    ),
    '',
    'patterns per condition',
    ...table(
      ['condition', 'patterns', 'up', 'down'],
      inspection.perCondition.map((c) => [c.condition, String(c.patterns), String(c.up), String(c.down)]),
    ),
    '',
  ];
  return lines.join('\n');
}

/** Bytes as B, KiB, MiB or GiB with one decimal. */
export function byteSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}
