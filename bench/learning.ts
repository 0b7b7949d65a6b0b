import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { episodeStarts, featureSeries, runEpisode, type FeatureSeries } from '../src/learning/episode.js';
import { featureSpace, marketCondition, type FeatureSpace } from '../src/learning/features.js';
import { PatternLearner, type PatternLearnerOptions } from '../src/learning/learner.js';
import { outcomeDirection } from '../src/market/outcomes.js';
import { simulateMarket } from '../src/market/simulator.js';
import type { PatternInput } from '../src/memory/pattern.js';
import { openPatternMemory } from '../src/memory/store.js';
import type { VectorIndex } from '../src/memory/vector-index.js';

/**
 * Training and evaluation speed of one PatternLearner whose memory already
 * holds 1k, 10k or 50k patterns, with exact search and with HNSW, plus what
 * a pattern costs on disk and how long a learner takes to open over it.
 */

type Search = 'exact' | 'hnsw';

interface Sample {
  readonly openMemoryMs: number;
  readonly openLearnerMs: number;
  /** From the end of `open` until the background graph answers; 0 for exact search. */
  readonly graphMs: number;
  readonly trainMs: number;
  readonly trainSteps: number;
  readonly evalMs: number;
  readonly evalSteps: number;
  /** Share of the timed searches the graph answered, to show the HNSW rows really measured it. */
  readonly hnswShare: number;
}

interface Row {
  readonly patterns: number;
  readonly search: Search;
  readonly bytesPerPatternFile: number;
  readonly bytesPerPatternDb: number;
  readonly openMemoryMs: number;
  readonly openLearnerMs: number;
  readonly graphMs: number;
  readonly trainEpisodesPerSec: number;
  readonly trainStepsPerSec: number;
  readonly evalEpisodesPerSec: number;
  readonly evalStepsPerSec: number;
  readonly hnswShare: number;
}

/** Below the smallest size, so every HNSW row is answered by the graph rather than by exact search. */
const HNSW_THRESHOLD = 500;
const EPISODE_LENGTH = 64;
const PRELOAD_SEED = 11;
/** A different market from the preload, so training meets unseen bars as it would live. */
const EPISODE_SEED = 12;

export async function run(args: readonly string[] = []): Promise<void> {
  const quick = args.includes('--quick');
  const sizes = [1_000, 10_000, 50_000];
  const repetitions = quick ? 3 : 5;
  const episodes = quick ? 8 : 32;
  const space = featureSpace();
  const root = mkdtempSync(join(tmpdir(), 'swarmbank-learning-'));
  try {
    const preload = preloadPatterns(space, Math.max(...sizes));
    const market = simulateMarket({ seed: EPISODE_SEED, length: space.lookback + 2 * episodes * EPISODE_LENGTH, assets: [{ id: 'ALPHA', initialPrice: 100, volatility: 0.01, baseVolume: 1_000_000 }] });
    const asset = market.assets[0]!;
    const series = featureSeries(asset.bars, space, asset.latent);
    const starts = episodeStarts(series, { length: EPISODE_LENGTH });
    const trainStarts = starts.slice(0, episodes);
    const evalStarts = starts.slice(episodes, 2 * episodes);

    const rows: Row[] = [];
    for (const size of sizes) {
      const base = join(root, `base-${size}`);
      const bytes = await writeMemory(base, space, preload.slice(0, size));
      for (const search of ['exact', 'hnsw'] as const) {
        const samples: Sample[] = [];
        for (let rep = 0; rep < repetitions; rep++) {
          // Training commits to the memory, so each repetition starts from its own copy of the same preload.
          const dir = join(root, `run-${size}-${search}-${rep}`);
          cpSync(base, dir, { recursive: true });
          try {
            samples.push(await measure(dir, space, search, series, trainStarts, evalStarts));
          } finally {
            rmSync(dir, { recursive: true, force: true });
          }
        }
        const med = (pick: (s: Sample) => number): number => median(samples.map(pick));
        rows.push({
          patterns: size,
          search,
          bytesPerPatternFile: bytes.file / bytes.count,
          bytesPerPatternDb: bytes.patterns / bytes.count,
          openMemoryMs: med((s) => s.openMemoryMs),
          openLearnerMs: med((s) => s.openLearnerMs),
          graphMs: med((s) => s.graphMs),
          trainEpisodesPerSec: med((s) => (trainStarts.length * 1_000) / s.trainMs),
          trainStepsPerSec: med((s) => (s.trainSteps * 1_000) / s.trainMs),
          evalEpisodesPerSec: med((s) => (evalStarts.length * 1_000) / s.evalMs),
          evalStepsPerSec: med((s) => (s.evalSteps * 1_000) / s.evalMs),
          hnswShare: med((s) => s.hnswShare),
        });
      }
    }
    print(rows, { dimensions: space.dimensions, episodes, repetitions });
    console.log(JSON.stringify({ suite: 'learning', dimensions: space.dimensions, episodeLength: EPISODE_LENGTH, episodes, repetitions, hnswThreshold: HNSW_THRESHOLD, rows }));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

/**
 * Patterns at real feature vectors of simulated bars, each predicting the
 * move that followed it, with the support and confidence spread a trained
 * learner's memory has, so search sees the clustering of real features.
 */
function preloadPatterns(space: FeatureSpace, count: number): PatternInput[] {
  const perAsset = Math.ceil(count / 3);
  // Slack for the warm-up and for bars whose next move is 0, which teach nothing.
  const market = simulateMarket({ seed: PRELOAD_SEED, length: space.lookback + Math.ceil(perAsset * 1.05) + 2 });
  const patterns: PatternInput[] = [];
  for (const asset of market.assets) {
    const { features } = featureSeries(asset.bars, space);
    for (let i = 0; i < features.length - 1 && patterns.length < count; i++) {
      const embedding = features[i];
      const move = outcomeDirection(asset.bars, i, 1);
      if (embedding === undefined || move === 0) continue;
      const n = patterns.length;
      const support = 1 + (n % 9);
      const successes = Math.ceil(support / 2) + (n % 2);
      const condition = marketCondition(embedding, space);
      patterns.push({
        id: `pre-${n}`,
        embedding,
        outcome: move > 0 ? 'up' : 'down',
        confidence: (Math.min(successes, support) + 1) / (support + 2),
        support,
        successes: Math.min(successes, support),
        origin: 'bench',
        featureSpaceId: space.id,
        condition,
        tags: [condition],
      });
    }
  }
  if (patterns.length < count) throw new Error(`simulated ${patterns.length} usable bars, wanted ${count}`);
  return patterns;
}

async function writeMemory(
  path: string,
  space: FeatureSpace,
  patterns: readonly PatternInput[],
): Promise<{ count: number; file: number; patterns: number }> {
  const memory = await openPatternMemory({ path, dimensions: space.dimensions, featureSpaceId: space.id });
  try {
    for (let start = 0; start < patterns.length; start += 1_000) await memory.upsertMany(patterns.slice(start, start + 1_000));
    const used = memory.bytesUsed();
    return { count: memory.count(), file: used.file, patterns: used.patterns };
  } finally {
    await memory.close();
  }
}

async function measure(
  path: string,
  space: FeatureSpace,
  search: Search,
  series: FeatureSeries,
  trainStarts: readonly number[],
  evalStarts: readonly number[],
): Promise<Sample> {
  let started = performance.now();
  const memory = await openPatternMemory({ path, dimensions: space.dimensions, featureSpaceId: space.id });
  const openMemoryMs = performance.now() - started;
  try {
    const options: PatternLearnerOptions = { space, memory, agentId: 'bench', ...(search === 'hnsw' ? { hnsw: { threshold: HNSW_THRESHOLD } } : {}) };
    started = performance.now();
    const learner = await PatternLearner.open(options);
    const openLearnerMs = performance.now() - started;
    try {
      // The learner keeps its index private; the bench reads it to wait for the
      // background graph, else the HNSW rows would time exact search during the build.
      const index = (learner as unknown as { readonly index: VectorIndex }).index;
      started = performance.now();
      await index.whenIndexed();
      const graphMs = search === 'hnsw' ? performance.now() - started : 0;
      const before = { ...index.stats };

      let trainSteps = 0;
      started = performance.now();
      for (const [episode, start] of trainStarts.entries()) {
        trainSteps += (await runEpisode(learner, series, { start, length: EPISODE_LENGTH, mode: 'train', episode })).steps;
      }
      const trainMs = performance.now() - started;

      let evalSteps = 0;
      started = performance.now();
      for (const start of evalStarts) evalSteps += (await runEpisode(learner, series, { start, length: EPISODE_LENGTH, mode: 'eval' })).steps;
      const evalMs = performance.now() - started;

      const graphSearches = index.stats.hnswSearches - before.hnswSearches;
      const allSearches = graphSearches + index.stats.exactSearches - before.exactSearches;
      return { openMemoryMs, openLearnerMs, graphMs, trainMs, trainSteps, evalMs, evalSteps, hnswShare: allSearches > 0 ? graphSearches / allSearches : 0 };
    } finally {
      learner.close();
    }
  } finally {
    await memory.close();
  }
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function print(rows: readonly Row[], setup: { dimensions: number; episodes: number; repetitions: number }): void {
  console.log(
    `learning, one PatternLearner, ${setup.dimensions} features, ${setup.episodes} train + ${setup.episodes} eval episodes of ${EPISODE_LENGTH} bars, median of ${setup.repetitions}`,
  );
  const header = ['patterns', 'search', 'B/pat file', 'B/pat db', 'open mem', 'open learner', 'graph ready', 'train ep/s', 'train step/s', 'eval ep/s', 'eval step/s', 'graph share'];
  const table = rows.map((r) => [
    String(r.patterns),
    r.search,
    r.bytesPerPatternFile.toFixed(0),
    r.bytesPerPatternDb.toFixed(0),
    `${r.openMemoryMs.toFixed(1)} ms`,
    `${r.openLearnerMs.toFixed(0)} ms`,
    r.search === 'hnsw' ? `${r.graphMs.toFixed(0)} ms` : '-',
    r.trainEpisodesPerSec.toFixed(1),
    r.trainStepsPerSec.toFixed(0),
    r.evalEpisodesPerSec.toFixed(1),
    r.evalStepsPerSec.toFixed(0),
    `${(r.hnswShare * 100).toFixed(0)}%`,
  ]);
  const widths = header.map((h, c) => Math.max(h.length, ...table.map((cells) => cells[c]!.length)));
  for (const cells of [header, ...table]) console.log(`  ${cells.map((cell, c) => cell.padStart(widths[c]!)).join('  ')}`);
}
