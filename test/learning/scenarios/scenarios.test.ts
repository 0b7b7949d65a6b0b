import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runScenario } from '../../../src/learning/scenarios/run.js';
import type { RunSummary } from '../../../src/learning/scenarios/result.js';

const cleanup: string[] = [];
afterEach(() => {
  for (const dir of cleanup.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

const small = { evalEpisodes: 4 } as const;
const SEEDS = [1, 2, 3];

/** Episodes to reach 95% of the oracle, a run that never got there counting as one more than it trained. */
function episodesToNearOracle(run: RunSummary): number {
  return run.nearOracleEpisode ?? run.learningCurve.length + 1;
}

describe('cold start', () => {
  it('learns from an empty memory to well above chance, below the oracle, and reports the claims beside its figures', async () => {
    const result = await runScenario('cold-start', { warmupEpisodes: 20, ...small }, { seed: 1 });
    expect(result.learningCurve).toHaveLength(20);
    expect(result.learningCurve.map((p) => p.episode)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(result.accuracy).toBeGreaterThan(0.75);
    expect(result.accuracy).toBeLessThanOrEqual(result.oracleAccuracy + 0.03);
    expect(result.convergenceEpisode).not.toBeNull();
    expect(result.convergenceEpisode!).toBeGreaterThanOrEqual(result.config.convergenceWindow);
    expect(result.patterns).toBeGreaterThan(0);
    expect(result.claims.map((c) => c.metric)).toEqual(['convergence (episodes)', 'final accuracy', 'training duration (s)']);
    expect(result.claims[1]!.measured).toBe(result.accuracy);
  });

  it('gives the same learning curve from the same seed, and another from another seed', async () => {
    const config = { warmupEpisodes: 6, ...small };
    const [a, b, c] = await Promise.all([runScenario('cold-start', config, { seed: 7 }), runScenario('cold-start', config, { seed: 7 }), runScenario('cold-start', config, { seed: 8 })]);
    expect(a.learningCurve).toEqual(b.learningCurve);
    expect(a.learningCurve).not.toEqual(c.learningCurve);
  });

  it('keeps the agent memories in dataDir when asked, and removes its temporary ones otherwise', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'swarmbank-scenario-'));
    cleanup.push(dataDir);
    const before = fs.readdirSync(os.tmpdir()).filter((name) => name.startsWith('swarmbank-cold-start-')).length;
    await runScenario('cold-start', { warmupEpisodes: 2, ...small }, { seed: 3, dataDir });
    expect(fs.readdirSync(path.join(dataDir, 'cold-start-3'))).toEqual(['cold']);
    await runScenario('cold-start', { warmupEpisodes: 2, ...small }, { seed: 3 });
    expect(fs.readdirSync(os.tmpdir()).filter((name) => name.startsWith('swarmbank-cold-start-')).length).toBeLessThanOrEqual(before);
  });
});

describe('warm start', () => {
  it('preloads only the named patterns and gets near the oracle sooner than a cold agent on the same seeds', async () => {
    let warm = 0;
    let cold = 0;
    for (const seed of SEEDS) {
      const result = await runScenario('warm-start', { warmupEpisodes: 12, libraryEpisodes: 20, ...small }, { seed });
      expect(result.details.preloaded).toBeGreaterThan(0);
      expect(result.details.preloaded).toBeLessThan(result.details.libraryPatterns);
      warm += episodesToNearOracle(result);
      cold += episodesToNearOracle(result.details.baseline);
      expect(result.details.baseline.learningCurve).toHaveLength(12);
    }
    expect(warm).toBeLessThan(cold);
  });
});

describe('transfer', () => {
  it('imports the source agent’s patterns, validated, and starts where the source left off', async () => {
    const full = await runScenario('transfer', { continueTraining: 8, sourceEpisodes: 20, ...small }, { seed: 2 });
    expect(full.details.transferred).toBe(full.details.sourcePatterns);
    expect(full.details.skipped).toBe(0);
    expect(full.details.startAccuracy).toBeGreaterThan(0.75);
    expect(full.details.startAccuracy).toBeGreaterThan(full.details.baseline.learningCurve[0]!.accuracy);

    const selective = await runScenario('transfer', { continueTraining: 8, sourceEpisodes: 20, transferMethod: 'selective', minConfidence: 0.7, ...small }, { seed: 2 });
    expect(selective.details.transferred).toBeLessThan(full.details.transferred);
    expect(selective.details.transferred + selective.details.skipped).toBe(full.details.sourcePatterns);
  });

  it('gets near the oracle sooner than a cold agent on the same seeds', async () => {
    let target = 0;
    let cold = 0;
    for (const seed of SEEDS) {
      const result = await runScenario('transfer', { continueTraining: 12, sourceEpisodes: 20, ...small }, { seed });
      target += episodesToNearOracle(result);
      cold += episodesToNearOracle(result.details.baseline);
    }
    expect(target).toBeLessThan(cold);
  });
});

describe('continual learning', () => {
  it('trades every bar of every day, reports return against buy-and-hold, and learns while trading', async () => {
    const result = await runScenario('continual', { tradingPeriod: 20, tradesPerDay: 10, pretrainEpisodes: 4 }, { seed: 4 });
    expect(result.learningCurve).toHaveLength(20);
    expect(result.details.trading.steps).toBe(200);
    expect(result.details.buyAndHold.steps).toBe(200);
    expect(Number.isFinite(result.details.trading.totalReturn)).toBe(true);
    expect(result.accuracy).toBeGreaterThan(0.7);
    expect(result.details.frozen.trading.steps).toBe(200);
    expect(result.patterns).toBeGreaterThan(0);
  });

  it('learns nothing while trading with onlineLearning off: the agent trades as its frozen twin', async () => {
    const result = await runScenario('continual', { tradingPeriod: 5, tradesPerDay: 10, pretrainEpisodes: 3, onlineLearning: false }, { seed: 4 });
    expect(result.accuracy).toBe(result.details.frozen.accuracy);
    expect(result.details.trading).toEqual(result.details.frozen.trading);
  });
});

describe('catastrophic forgetting', () => {
  it('measures retention of task A after task B with and without protection, and distillation shrinks the memory', async () => {
    const result = await runScenario('forgetting', { taskEpisodes: 12, distillationInterval: 6, ...small }, { seed: 1 });
    const { protected: guarded, unprotected } = result.details;
    expect(guarded.consolidated).toBeGreaterThan(0);
    expect(guarded.distillations).toBe(4);
    expect(unprotected.consolidated).toBe(0);
    expect(unprotected.distillations).toBe(0);
    for (const run of [guarded, unprotected]) {
      expect(run.retention).toBeCloseTo(run.taskAAfter / run.taskABefore, 12);
      expect(run.taskADuringB).toHaveLength(12);
    }
    expect(result.details.memoryReduction).toBeGreaterThan(0);
    expect(guarded.patterns).toBeLessThan(unprotected.patterns);
    expect(result.learningCurve).toHaveLength(24);
  });

  it('consolidation keeps task A longer when task B contradicts it on the same inputs', async () => {
    for (const seed of SEEDS) {
      const result = await runScenario('forgetting', { taskEpisodes: 10, taskB: 'inverted', distillationInterval: 1000, ...small }, { seed });
      const { protected: guarded, unprotected } = result.details;
      expect(unprotected.meanRetentionDuringB).toBeLessThan(0.6);
      expect(guarded.meanRetentionDuringB).toBeGreaterThan(unprotected.meanRetentionDuringB);
    }
  });
});
