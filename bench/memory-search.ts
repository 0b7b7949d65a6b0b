import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { QuantizedIndex, type QuantizationKind } from '../src/memory/quantization.js';
import { VectorIndex, type VectorMatch } from '../src/memory/vector-index.js';
import { clusteredVectors, recallAt } from '../src/testkit/vectors.js';

/**
 * Top-k latency and recall@10 of every search path on clustered synthetic
 * embeddings (seeded), and the time to make a 100k-pattern index searchable
 * after a restart: loading the saved HNSW graph against rebuilding it.
 */

const K = 10;
const QUERIES = 100;
const HNSW_ROUNDS = 10;

export async function run(): Promise<void> {
  const started = performance.now();
  console.log(`memory search: top-${K} cosine on clustered data, ${QUERIES} queries, node ${process.version}`);
  console.log('size         dims  path                  median ms   p99 ms  recall@10  notes');
  for (const [count, dimensions] of [
    [10_000, 64],
    [10_000, 384],
    [100_000, 64],
    [100_000, 384],
  ] as const) {
    await measure(count, dimensions);
  }
  console.log(`total ${seconds(performance.now() - started)}`);
}

async function measure(count: number, dimensions: number): Promise<void> {
  const clusters = Math.round(Math.sqrt(count));
  const data = clusteredVectors({ count, dimensions, clusters, spread: 0.5, seed: 1, centresSeed: 7 });
  const queries = clusteredVectors({ count: QUERIES, dimensions, clusters, spread: 0.5, seed: 2, centresSeed: 7 });
  const row = (i: number) => data.subarray(i * dimensions, (i + 1) * dimensions);
  const query = (i: number) => queries.subarray(i * dimensions, (i + 1) * dimensions);
  const line = (path: string, times: number[], recall: number | undefined, notes = '') =>
    console.log(
      `${String(count).padEnd(12)} ${String(dimensions).padEnd(5)} ${path.padEnd(21)} ${fmt(percentile(times, 0.5)).padStart(9)} ${fmt(percentile(times, 0.99)).padStart(8)}  ${(recall === undefined ? '-' : recall.toFixed(4)).padStart(9)}  ${notes}`,
    );

  const index = await VectorIndex.open({ dimensions });
  const buildStarted = performance.now();
  for (let i = 0; i < count; i++) index.upsert(`p${i}`, row(i), { tags: i % 4 === 0 ? ['support_level'] : [] });
  const upsertMs = performance.now() - buildStarted;
  await index.whenIndexed();
  const buildMs = performance.now() - buildStarted;

  const exact = timed(QUERIES, 1, (q) => index.search(query(q), K, { exact: true }));
  line('exact float32', exact.times, 1, `upserts ${fmt(upsertMs)} ms`);
  const truth = exact.results;

  const hnsw = timed(QUERIES, HNSW_ROUNDS, (q) => index.search(query(q), K));
  line('hnsw (usearch)', hnsw.times, recallAt(truth, hnsw.results), `${index.hnswState}, build ${seconds(buildMs)}`);

  const filtered = timed(QUERIES, HNSW_ROUNDS, (q) => index.search(query(q), K, { tags: ['support_level'] }));
  const filteredTruth = timed(QUERIES, 1, (q) => index.search(query(q), K, { tags: ['support_level'], exact: true }));
  line('hnsw + tag filter', filtered.times, recallAt(filteredTruth.results, filtered.results), '1 in 4 pass');

  const mmr = timed(QUERIES, HNSW_ROUNDS, (q) => index.search(query(q), K, { mmr: { lambda: 0.7 } }));
  line('hnsw + mmr', mmr.times, undefined, 'lambda 0.7, 40 candidates');

  for (const kind of ['int8', 'int4'] as const satisfies readonly QuantizationKind[]) {
    const quantized = new QuantizedIndex({ dimensions, kind, fetchVector: (id) => row(Number(id.slice(1))) });
    for (let i = 0; i < count; i++) quantized.upsert(`p${i}`, row(i));
    const bytes = `${(quantized.vectorBytes / count).toFixed(0)} B/vector vs ${dimensions * 4}`;
    const plain = timed(QUERIES, 1, (q) => quantized.search(query(q), K));
    line(`${kind}`, plain.times, recallAt(truth, plain.results), bytes);
    for (const rerank of kind === 'int8' ? [2] : [4]) {
      const reranked = timed(QUERIES, 1, (q) => quantized.search(query(q), K, { rerank }));
      line(`${kind} + rerank ×${rerank}`, reranked.times, recallAt(truth, reranked.results), 'float re-rank');
    }
  }

  if (count === 100_000) await restart(index, count, dimensions, row, buildMs);
  index.close();
}

/** Reopening: upsert the stored vectors again, then load the graph or rebuild it. */
async function restart(
  built: VectorIndex,
  count: number,
  dimensions: number,
  row: (i: number) => Float32Array,
  rebuildMs: number,
): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'swarmbank-bench-hnsw-'));
  try {
    const path = join(dir, 'patterns.usearch');
    const saveStarted = performance.now();
    built.saveHnsw(path);
    const saveMs = performance.now() - saveStarted;
    const reopened = await VectorIndex.open({ dimensions });
    const upsertStarted = performance.now();
    for (let i = 0; i < count; i++) reopened.upsert(`p${i}`, row(i));
    const upsertMs = performance.now() - upsertStarted;
    const report = reopened.loadHnsw(path);
    console.log(
      `  restart ${count}×${dimensions}: save ${fmt(saveMs)} ms; reopen = upsert vectors ${fmt(upsertMs)} ms + load graph ${fmt(report.milliseconds)} ms (${report.outcome}, ${reopened.hnswState}) vs background rebuild ${seconds(rebuildMs)}`,
    );
    reopened.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function timed(queries: number, rounds: number, search: (q: number) => VectorMatch[]): { times: number[]; results: VectorMatch[][] } {
  const times: number[] = [];
  const results: VectorMatch[][] = [];
  for (let q = 0; q < Math.min(queries, 20); q++) search(q);
  for (let round = 0; round < rounds; round++) {
    for (let q = 0; q < queries; q++) {
      const t = performance.now();
      const found = search(q);
      times.push(performance.now() - t);
      results[q] = found;
    }
  }
  return { times, results };
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

function fmt(ms: number): string {
  return ms < 10 ? ms.toFixed(3) : ms.toFixed(0);
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}
