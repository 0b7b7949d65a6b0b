import { describe, expect, it } from 'vitest';
import { parseDeploymentConfig, type MultiStrategyConfig } from '../../src/topologies/config.js';
import type { DeploymentEventOf } from '../../src/topologies/events.js';
import { MultiStrategyDeployment } from '../../src/topologies/multi-strategy.js';
import { patternsByOrigin, useDeployments } from './support.js';

const deployments = useDeployments();
const market = { evalEpisodes: 4 } as const;

function multiStrategy(input: Partial<MultiStrategyConfig> = {}): MultiStrategyConfig {
  return parseDeploymentConfig({ topology: 'multi-strategy', ...input }) as MultiStrategyConfig;
}

describe('multi-strategy', () => {
  it('learns which strategy to trust in which condition, and beats rotating through them blindly', async () => {
    const run = async (metaLearning: boolean) => {
      const deployment = deployments.track(MultiStrategyDeployment.create(multiStrategy({ metaLearning }), { seed: 1, market, maxEpisodes: 12 }));
      return deployment.run({ episodes: 12 });
    };
    const learned = await run(true);
    const baseline = await run(false);
    const { table, strategyAccuracy } = learned.topologyMetrics;
    expect(table.map((row) => row.condition)).toEqual(['trending', 'ranging', 'volatile']);
    for (const row of table) {
      expect(row.strategy).toBeDefined();
      // The trusted strategy is the one with the highest posterior mean.
      const chosen = row.posteriors.find((p) => p.strategy === row.strategy)!;
      expect(Math.max(...row.posteriors.map((p) => p.mean))).toBe(chosen.mean);
    }
    // Mean reversion fades trends, so it is never trusted in them.
    expect(table.find((row) => row.condition === 'trending')!.strategy).not.toBe('mean-reversion');
    expect(learned.accuracy).toBeGreaterThan(baseline.accuracy + 0.1);
    expect(learned.accuracy).toBeGreaterThan(Math.min(...Object.values(strategyAccuracy)) + 0.3);
    expect(learned.accuracy).toBeLessThanOrEqual(learned.oracleAccuracy);
  });

  it("reports every strategy alone and the oracle's best strategy per latent condition of the held-out series", async () => {
    const deployment = deployments.track(MultiStrategyDeployment.create(multiStrategy(), { seed: 2, market, maxEpisodes: 6 }));
    const metrics = await deployment.run({ episodes: 6 });
    const { strategyAccuracy, strategyAccuracyByCondition, oracleTable, oracleTableAccuracy, accuracyByCondition } = metrics.topologyMetrics;
    expect(Object.keys(strategyAccuracy)).toEqual(['momentum', 'mean-reversion', 'breakout']);
    expect(metrics.perAgent.map((a) => [a.id, a.accuracy])).toEqual(Object.entries(strategyAccuracy));
    expect(Object.keys(strategyAccuracyByCondition)).toEqual(['momentum', 'mean-reversion', 'breakout']);
    expect(oracleTable.map((row) => row.condition).sort()).toEqual(['ranging', 'trending', 'volatile']);
    for (const row of oracleTable) {
      expect(row.accuracy).toBe(Math.max(...Object.values(row.byStrategy).filter(Number.isFinite)));
      expect(row.steps).toBeGreaterThan(0);
    }
    // Momentum rides trends; mean reversion is best where the market ranges.
    expect(oracleTable.find((row) => row.condition === 'ranging')!.strategy).toBe('mean-reversion');
    expect(oracleTable.find((row) => row.condition === 'trending')!.byStrategy['momentum']).toBeGreaterThan(0.8);
    expect(oracleTableAccuracy).toBeGreaterThan(Math.max(...Object.values(strategyAccuracy)));
    expect(Object.values(accuracyByCondition).reduce((n, c) => n + c.steps, 0)).toBe(4 * 63);
  });

  it('re-chooses every rotationInterval trades of a condition, and says so', async () => {
    const rotationsWith = async (rotationInterval: number) => {
      const deployment = deployments.track(MultiStrategyDeployment.create(multiStrategy({ rotationInterval }), { seed: 3, market, maxEpisodes: 4 }));
      const rotations: DeploymentEventOf<'rotate'>[] = [];
      deployment.events.on('rotate', (event) => rotations.push(event));
      const { topologyMetrics } = await deployment.run({ episodes: 4 });
      expect(rotations).toHaveLength(topologyMetrics.rotations);
      expect(new Set(rotations.map((r) => r.strategy)).size).toBeGreaterThan(1);
      // One first choice per condition, then one per full interval of trades.
      expect(topologyMetrics.rotations).toBeGreaterThanOrEqual(Math.floor(topologyMetrics.trades / rotationInterval) - 3);
      expect(topologyMetrics.rotations).toBeLessThanOrEqual(Math.floor(topologyMetrics.trades / rotationInterval) + 3);
      return topologyMetrics.rotations;
    };
    expect(await rotationsWith(5)).toBeGreaterThan(2 * (await rotationsWith(20)));
  });

  it("moves a trusted strategy's confident patterns of its condition to the other strategies", async () => {
    const dataDir = deployments.dir();
    const deployment = deployments.track(MultiStrategyDeployment.create(multiStrategy(), { seed: 4, market, maxEpisodes: 4, dataDir }));
    const transfers: DeploymentEventOf<'transfer'>[] = [];
    deployment.events.on('transfer', (event) => transfers.push(event));
    const metrics = await deployment.run({ episodes: 4 });
    const { transfers: count, patternsTransferred } = metrics.topologyMetrics;
    expect(count).toBe(transfers.length);
    expect(patternsTransferred).toBe(transfers.reduce((n, t) => n + t.patterns, 0));
    expect(patternsTransferred).toBeGreaterThan(0);
    expect(metrics.bytesExchanged).toBeGreaterThan(0);
    await deployment.stop();
    const { from, to } = transfers[0]!;
    const held = await patternsByOrigin(dataDir, to);
    expect(held.get(from)?.size ?? 0).toBeGreaterThan(0);
  });

  it('transfers nothing and rotates blind to the condition without meta-learning', async () => {
    const deployment = deployments.track(MultiStrategyDeployment.create(multiStrategy({ metaLearning: false }), { seed: 5, market, maxEpisodes: 4 }));
    const rotations: DeploymentEventOf<'rotate'>[] = [];
    deployment.events.on('rotate', (event) => rotations.push(event));
    const metrics = await deployment.run({ episodes: 4 });
    expect(metrics.topologyMetrics.transfers).toBe(0);
    expect(rotations.length).toBeGreaterThan(0);
    expect(rotations.every((r) => r.condition === '*')).toBe(true);
    expect(rotations.slice(0, 3).map((r) => r.strategy)).toEqual(['mean-reversion', 'breakout', 'momentum']);
  });

  it('keeps deciding with a strategy killed mid-run, trusting the live ones', async () => {
    const deployment = deployments.track(
      MultiStrategyDeployment.create(multiStrategy(), { seed: 6, market, maxEpisodes: 6, agentSupervision: { directive: 'stop' } }),
    );
    deployment.inject({ seed: 1, steps: [{ at: { afterMessages: 3, path: '/multi-strategy/breakout' }, kill: '/multi-strategy/breakout' }] });
    const metrics = await deployment.run({ episodes: 6 });
    expect(metrics.crashes).toBe(1);
    expect(metrics.perAgent.filter((a) => a.live).map((a) => a.id)).toEqual(['momentum', 'mean-reversion']);
    expect(metrics.learningCurve.every((point) => point.decidedFraction > 0.5)).toBe(true);
    expect(metrics.topologyMetrics.table.every((row) => row.strategy !== 'breakout')).toBe(true);
    expect(Object.keys(metrics.topologyMetrics.strategyAccuracy)).toEqual(['momentum', 'mean-reversion']);
    expect(metrics.accuracy).toBeGreaterThan(0.7);
  });

  it('brings a restarted strategy back into the table', async () => {
    const deployment = deployments.track(
      MultiStrategyDeployment.create(multiStrategy(), {
        seed: 7,
        market,
        maxEpisodes: 6,
        agentSupervision: { backoff: { minMs: 200, maxMs: 200, jitter: 0 } },
      }),
    );
    const restarted = new Promise<void>((resolve) => deployment.events.on('restart', () => resolve()));
    deployment.inject({ seed: 1, steps: [{ at: { afterMessages: 3, path: '/multi-strategy/momentum' }, kill: '/multi-strategy/momentum' }] });
    await deployment.run({ episodes: 3 });
    await restarted;
    const metrics = await deployment.run({ episodes: 3 });
    expect(metrics.restarts).toBe(1);
    expect(metrics.perAgent.every((a) => a.live)).toBe(true);
    expect(Object.keys(metrics.topologyMetrics.strategyAccuracy)).toHaveLength(3);
    expect(metrics.learningCurve.every((point) => point.decidedFraction > 0.5)).toBe(true);
  });

  it('keeps deciding when the meta-learner and the detector are killed: both restart, and the table is learned again', async () => {
    const deployment = deployments.track(MultiStrategyDeployment.create(multiStrategy(), { seed: 9, market, maxEpisodes: 6 }));
    const restarted: string[] = [];
    deployment.runtime.events.subscribe((event) => {
      if (event.type === 'restarted' && 'path' in event) restarted.push(event.path);
    });
    await deployment.run({ episodes: 3 });
    deployment.inject({
      seed: 1,
      steps: [
        { at: { afterMessages: 1, path: '/multi-strategy/meta-learner' }, kill: '/multi-strategy/meta-learner' },
        { at: { afterMessages: 1, path: '/multi-strategy/detector' }, kill: '/multi-strategy/detector' },
      ],
    });
    const metrics = await deployment.run({ episodes: 3 });
    expect(restarted.sort()).toEqual(['/multi-strategy/detector', '/multi-strategy/meta-learner']);
    expect(metrics.learningCurve.every((point) => point.decidedFraction > 0.5)).toBe(true);
    expect(metrics.topologyMetrics.table.every((row) => row.strategy !== undefined)).toBe(true);
    expect(metrics.accuracy).toBeGreaterThan(0.7);
  });

  it('gives the same table and learning curve from the same seed', async () => {
    const run = async () => {
      const deployment = deployments.track(MultiStrategyDeployment.create(multiStrategy(), { seed: 8, market, maxEpisodes: 3 }));
      const metrics = await deployment.run({ episodes: 3 });
      return { curve: metrics.learningCurve, table: metrics.topologyMetrics.table };
    };
    expect(await run()).toEqual(await run());
  });
});
