import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PatternSearch } from '../src/memory/search.js';
import { openPatternMemory } from '../src/memory/store.js';
import { clusteredVectors } from '../src/testkit/vectors.js';

/**
 * How long a 100k-pattern memory takes to become searchable again after a
 * restart: the stored vectors loaded into the index plus the saved HNSW graph
 * (patched), against rebuilding the graph from scratch in the same run.
 */
export async function run(args: readonly string[] = []): Promise<void> {
  const count = args.includes('--quick') ? 20_000 : 100_000;
  const dimensions = 64;
  const dir = mkdtempSync(join(tmpdir(), 'swarmbank-reopen-'));
  try {
    const vectors = clusteredVectors({ count, dimensions, clusters: 64, spread: 0.3, seed: 1, centresSeed: 2 });
    const memory = await openPatternMemory({ path: dir, dimensions, featureSpaceId: 'bench' });
    for (let start = 0; start < count; start += 1_000) {
      await memory.upsertMany(
        Array.from({ length: Math.min(1_000, count - start) }, (_, i) => ({
          id: `p${start + i}`,
          embedding: vectors.slice((start + i) * dimensions, (start + i + 1) * dimensions),
          outcome: (start + i) % 2 === 0 ? ('up' as const) : ('down' as const),
          confidence: 0.6,
          support: 3,
          successes: 2,
          origin: 'bench',
        })),
      );
    }
    const first = await PatternSearch.open(memory);
    const buildStarted = performance.now();
    await first.index.whenIndexed();
    const buildMs = performance.now() - buildStarted + first.opened.vectorsMs;
    await first.close();

    const reopenStarted = performance.now();
    const second = await PatternSearch.open(memory);
    const reopenMs = performance.now() - reopenStarted;
    const state = second.index.hnswState;
    second.index.close();
    await memory.close();

    const rows: [string, string][] = [
      ['patterns', String(count)],
      ['rebuild: vectors + HNSW graph from scratch', `${buildMs.toFixed(0)} ms`],
      ['reopen: stored vectors', `${second.opened.vectorsMs.toFixed(0)} ms`],
      ['reopen: saved graph loaded', `${second.opened.graph.milliseconds.toFixed(0)} ms (${second.opened.graph.outcome})`],
      ['reopen: total until searchable by HNSW', `${reopenMs.toFixed(0)} ms (graph ${state})`],
      ['rebuild / reopen', `${(buildMs / reopenMs).toFixed(1)}x`],
    ];
    console.log(`memory reopen, ${count} × ${dimensions}`);
    for (const [label, value] of rows) console.log(`  ${label.padEnd(44)} ${value}`);
    console.log(JSON.stringify({ suite: 'memory-reopen', count, dimensions, buildMs, reopenMs, vectorsMs: second.opened.vectorsMs, graphMs: second.opened.graph.milliseconds, graph: state }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
