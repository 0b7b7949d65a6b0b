/**
 * The reference's deployment patterns and learning scenarios, end to end, on
 * the reference's configs as written (fewer episodes than a real run). Each
 * `describe` carries the reference's name, so one part runs alone:
 *
 *   npm test -- learning-deployment-patterns -t "Mesh + Distributed Learning"
 */
import { afterEach, describe, expect, it } from 'vitest';
import { runScenario } from '../src/learning/scenarios/run.js';
import type { BlueGreenDeployment } from '../src/topologies/blue-green.js';
import { deploy } from '../src/topologies/deploy.js';
import type { Deployment, DeploymentMetrics } from '../src/topologies/deployment.js';

const running: Deployment[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((d) => d.stop()));
});

const options = { seed: 1, market: { evalEpisodes: 4 } } as const;

async function run<T extends DeploymentMetrics>(config: unknown, episodes: number, extra: Record<string, unknown> = {}): Promise<{ deployment: Deployment; metrics: T }> {
  const deployment = deploy(config, { ...options, maxEpisodes: episodes, ...extra });
  running.push(deployment);
  return { deployment, metrics: (await deployment.run({ episodes })) as T };
}

describe('Mesh + Distributed Learning', () => {
  it('learns by consensus of 5 peers and replicates every commit, with the sync latency measured', async () => {
    const { metrics } = await run<DeploymentMetrics<'mesh'>>({ topology: 'mesh', agentCount: 5, learningRate: 0.01, syncProtocol: 'quic', consensusThreshold: 0.67 }, 6);
    expect(metrics.agents).toBe(5);
    expect(metrics.accuracy).toBeGreaterThan(0.8);
    expect(metrics.topologyMetrics.syncLatency.count).toBeGreaterThan(0);
    expect(metrics.topologyMetrics.syncLatency.p99Ms).toBeLessThan(120_000);
  });

  it('keeps voting when an agent is killed', async () => {
    const deployment = deploy({ topology: 'mesh', agentCount: 5, learningRate: 0.01, syncProtocol: 'quic', consensusThreshold: 0.67 }, { ...options, maxEpisodes: 4, agentSupervision: { directive: 'stop' } });
    running.push(deployment);
    deployment.inject({ seed: 1, steps: [{ at: { afterMessages: 3, path: '/mesh/agent-3' }, kill: '/mesh/agent-3' }] });
    const metrics = await deployment.run({ episodes: 4 });
    expect(metrics.perAgent.filter((a) => a.live)).toHaveLength(4);
    expect(metrics.learningCurve.every((p) => Number.isFinite(p.accuracy))).toBe(true);
  });
});

describe('Hierarchical + Centralized Learning', () => {
  it('aggregates 4 workers in a leader with its own learning rate and memory size', async () => {
    const { metrics } = await run<DeploymentMetrics<'hierarchical'>>(
      { topology: 'hierarchical', leader: { learningRate: 0.005, memorySize: 50000 }, workers: { count: 4, learningRate: 0.01, memorySize: 10000 } },
      5,
    );
    expect(metrics.agents).toBe(4);
    expect(metrics.topologyMetrics.aggregations).toBe(5);
    expect(metrics.topologyMetrics.leaderPatterns).toBeLessThanOrEqual(50_000);
    expect(metrics.accuracy).toBeGreaterThan(0.8);
  });
});

describe('Ring + Sequential Learning', () => {
  it('hands distilled knowledge from stage to stage every transferInterval episodes', async () => {
    const { metrics } = await run<DeploymentMetrics<'ring'>>({ topology: 'ring', agentCount: 4, learningRate: 0.01, transferInterval: 15 }, 15);
    expect(metrics.topologyMetrics.transfers.length).toBeGreaterThanOrEqual(4);
    expect(metrics.topologyMetrics.stages).toHaveLength(4);
    expect(metrics.accuracy).toBeGreaterThan(0.8);
  });
});

describe('Auto-Scale + Adaptive Learning', () => {
  it('starts at initialAgents, stays within maxAgents, and adapts learning rates to the VIX, never above 0.05', async () => {
    const { metrics } = await run<DeploymentMetrics<'auto-scale'>>(
      { topology: 'auto-scale', initialAgents: 2, maxAgents: 10, scaleUpTrigger: { newPatterns: 20 }, scaleDownTrigger: { memoryReduction: 0.3 }, vixAdaptation: true },
      8,
    );
    const t = metrics.topologyMetrics;
    expect(t.peakAgents).toBeGreaterThanOrEqual(2);
    expect(t.peakAgents).toBeLessThanOrEqual(10);
    const rates = Object.values(t.learningRates).flat().map((r) => r.learningRate);
    expect(rates.length).toBeGreaterThan(0);
    expect(Math.max(...rates)).toBeLessThanOrEqual(0.05);
    expect(new Set(rates).size).toBeGreaterThan(1);
  });
});

describe('Multi-Strategy + Meta-Learning', () => {
  it('learns which strategy to trust in which market condition, and reports the table against each strategy and the oracle', async () => {
    const { metrics } = await run<DeploymentMetrics<'multi-strategy'>>(
      { topology: 'multi-strategy', strategies: ['momentum', 'mean-reversion', 'breakout'], marketConditions: ['trending', 'ranging', 'volatile'], metaLearning: true, rotationInterval: 10 },
      6,
    );
    const t = metrics.topologyMetrics;
    expect(t.table.length).toBeGreaterThan(0);
    expect(Object.keys(t.strategyAccuracy).sort()).toEqual(['breakout', 'mean-reversion', 'momentum']);
    expect(Number.isFinite(t.oracleTableAccuracy)).toBe(true);
    expect(metrics.accuracy).toBeGreaterThan(0.7);
  });
});

describe('Blue-Green + Knowledge Transfer', () => {
  it('A/B tests the two versions, cuts over to green and rolls back keeping what green learned', async () => {
    const { deployment, metrics } = await run<DeploymentMetrics<'blue-green'>>(
      { topology: 'blue-green', blue: { agents: 2, version: 'v1.0' }, green: { agents: 2, version: 'v2.0' }, knowledgeTransfer: true, abTesting: true, rollbackPreservation: true },
      4,
    );
    expect(metrics.topologyMetrics.abTest).toBeDefined();
    const blueGreen = deployment as BlueGreenDeployment;
    await blueGreen.cutover();
    expect(blueGreen.liveGroup).toBe('green');
    const { preserved } = await blueGreen.rollback();
    expect(blueGreen.liveGroup).toBe('blue');
    expect(preserved).toBeGreaterThanOrEqual(0);
    const after = await blueGreen.metrics();
    expect(after.topologyMetrics.traffic.dropped).toBe(0);
    expect(after.topologyMetrics.traffic.duplicated).toBe(0);
  });
});

describe('Learning Scenarios', () => {
  it('cold start learns from an empty memory', async () => {
    const result = await runScenario('cold-start', { learningRate: 0.02, convergenceTarget: 0.7, warmupEpisodes: 10, evalEpisodes: 4 });
    expect(result.accuracy).toBeGreaterThan(0.75);
    expect(result.convergenceEpisode).not.toBeNull();
  });

  it('warm start preloads named patterns', async () => {
    const result = await runScenario('warm-start', { learningRate: 0.01, preloadPatterns: ['bullish_reversal', 'support_level'], convergenceTarget: 0.7, warmupEpisodes: 8, libraryEpisodes: 10, evalEpisodes: 4 });
    expect(result.details.preloaded).toBeGreaterThan(0);
  });

  it('transfer imports another agent’s validated patterns, full or selective', async () => {
    const result = await runScenario('transfer', { sourceAgent: 'experienced-agent', targetAgent: 'new-agent', transferMethod: 'selective', continueTraining: 6, sourceEpisodes: 10, evalEpisodes: 4 });
    expect(result.details.transferred).toBeGreaterThan(0);
    expect(result.details.skipped).toBeGreaterThan(0);
  });

  it('continual learning trades while it learns', async () => {
    const result = await runScenario('continual', { learningRate: 0.005, onlineLearning: true, tradingPeriod: 30, tradesPerDay: 10 });
    expect(result.details.trading.steps).toBe(300);
  });

  it('catastrophic forgetting is measured with and without distillation and consolidation', async () => {
    const result = await runScenario('forgetting', { distillationInterval: 10, memoryConsolidation: true, retentionTarget: 0.8, taskEpisodes: 20, evalEpisodes: 4 });
    expect(result.details.protected.consolidated).toBeGreaterThan(0);
    expect(Number.isFinite(result.details.unprotected.retention)).toBe(true);
  });
});
