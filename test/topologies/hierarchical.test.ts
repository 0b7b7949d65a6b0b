import { describe, expect, it } from 'vitest';
import { ask } from '../../src/actors/ask.js';
import type { ActorRef } from '../../src/actors/ref.js';
import type { AgentMessage, ExportReply } from '../../src/agents/messages.js';
import { featureSpace } from '../../src/learning/features.js';
import { decodeBundle } from '../../src/memory/bundle.js';
import type { Pattern } from '../../src/memory/pattern.js';
import { parseDeploymentConfig, type HierarchicalConfig } from '../../src/topologies/config.js';
import type { DeploymentEvent } from '../../src/topologies/events.js';
import { HierarchicalDeployment } from '../../src/topologies/hierarchical.js';
import { topDown, weighted, workerWeight } from '../../src/topologies/hierarchical-aggregation.js';
import { patternsByOrigin, useDeployments } from './support.js';

const deployments = useDeployments();
const market = { evalEpisodes: 4 } as const;

function hierarchical(input: Record<string, unknown> = {}): HierarchicalConfig {
  return parseDeploymentConfig({ topology: 'hierarchical', workers: { count: 3 }, ...input }) as HierarchicalConfig;
}

/** The ids of the patterns in an agent's memory, asked of the agent itself. */
async function idsOf(deployment: HierarchicalDeployment, path: string): Promise<Set<string>> {
  const ref = deployment.runtime.lookup(path) as ActorRef<AgentMessage>;
  const reply = await ask(ref, (replyTo: ActorRef<ExportReply>) => ({ type: 'export', replyTo }), 5_000);
  if (!reply.ok) throw new Error(reply.error.message);
  const space = featureSpace();
  return new Set(decodeBundle(reply.bundle, { featureSpaceId: space.id, dimensions: space.dimensions }).patterns.map((p) => p.id));
}

function collect<T extends DeploymentEvent['type']>(deployment: HierarchicalDeployment, type: T): Extract<DeploymentEvent, { type: T }>[] {
  const events: Extract<DeploymentEvent, { type: T }>[] = [];
  deployment.events.on(type, (event) => events.push(event));
  return events;
}

describe('hierarchical', () => {
  it("aggregates the workers' deltas in the leader every episode, pushes its best patterns back down, and scores the leader", async () => {
    const deployment = deployments.track(HierarchicalDeployment.create(hierarchical(), { seed: 2, market, maxEpisodes: 5 }));
    const aggregates = collect(deployment, 'aggregate');
    const metrics = await deployment.run({ episodes: 5 });
    const h = metrics.topologyMetrics;
    expect(metrics.agents).toBe(3);
    expect(metrics.perAgent.map((a) => a.id)).toEqual(['leader', 'worker-1', 'worker-2', 'worker-3']);
    expect(metrics.perAgent.map((a) => a.episodesTrained)).toEqual([5, 5, 5, 5]);
    expect(aggregates.map((a) => a.episode)).toEqual([1, 2, 3, 4, 5]);
    expect(h.aggregations).toBe(5);
    expect(h.aggregationsMissed).toBe(0);
    expect(h.aggregationLatency.count).toBe(5);
    expect(h.aggregationLatency.p50Ms).toBeGreaterThanOrEqual(0);
    expect(h.aggregationLatency.p99Ms).toBeGreaterThanOrEqual(h.aggregationLatency.p50Ms);
    expect(h.patternsAggregated).toBeGreaterThan(0);
    expect(h.duplicatesMerged).toBeGreaterThan(0);
    expect(h.strategyUpdates).toBeGreaterThan(0);
    expect(Object.keys(h.workerWeights)).toEqual(['worker-1', 'worker-2', 'worker-3']);
    // The deployment's accuracy is the leader's.
    expect(metrics.accuracy).toBe(metrics.perAgent[0]!.accuracy);
    expect(metrics.accuracy).toBeGreaterThan(0.8);
    expect(metrics.accuracy).toBeLessThan(metrics.oracleAccuracy + 0.05);
    expect(h.workerAccuracy).toBeGreaterThan(0.8);
    expect(metrics.bytesExchanged).toBeGreaterThan(0);
  });

  it('holds every worker’s knowledge in the leader and hands each worker what the others learned', async () => {
    const dataDir = deployments.dir();
    const deployment = deployments.track(HierarchicalDeployment.create(hierarchical(), { seed: 3, market, maxEpisodes: 3, dataDir }));
    await deployment.run({ episodes: 3 });
    await deployment.stop();
    const leader = await patternsByOrigin(dataDir, 'leader');
    for (const worker of ['worker-1', 'worker-2', 'worker-3']) {
      expect(leader.get(worker)?.size ?? 0, `leader holds patterns of ${worker}`).toBeGreaterThan(0);
      const held = await patternsByOrigin(dataDir, worker);
      const others = [...held.keys()].filter((origin) => origin !== worker);
      expect(others.length, `${worker} received patterns of others`).toBeGreaterThanOrEqual(2);
    }
  });

  it('aggregates every k episodes when asked to', async () => {
    const deployment = deployments.track(HierarchicalDeployment.create(hierarchical(), { seed: 4, market, maxEpisodes: 4, aggregationInterval: 2 }));
    const aggregates = collect(deployment, 'aggregate');
    const metrics = await deployment.run({ episodes: 4 });
    expect(aggregates.map((a) => a.episode)).toEqual([2, 4]);
    expect(metrics.topologyMetrics.aggregationInterval).toBe(2);
    expect(() => HierarchicalDeployment.create(hierarchical(), { aggregationInterval: 0 })).toThrow(/aggregationInterval/);
  });

  it('keeps the leader within its memory size', async () => {
    const dataDir = deployments.dir();
    const config = hierarchical({ leader: { learningRate: 0.005, memorySize: 120 } });
    const deployment = deployments.track(HierarchicalDeployment.create(config, { seed: 5, market, maxEpisodes: 4, dataDir }));
    const metrics = await deployment.run({ episodes: 4 });
    expect(metrics.topologyMetrics.leaderCapacity).toBe(120);
    expect(metrics.topologyMetrics.leaderPatterns).toBeLessThanOrEqual(120);
    expect(metrics.topologyMetrics.patternsAggregated).toBeGreaterThan(120);
    expect(metrics.accuracy).toBeGreaterThan(0.75);
    await deployment.stop();
    const held = [...(await patternsByOrigin(dataDir, 'leader')).values()].reduce((n, ids) => n + ids.size, 0);
    expect(held).toBeLessThanOrEqual(120);
  });

  it('keeps workers trading when the leader is killed with no standby, while aggregation stops', async () => {
    const deployment = deployments.track(
      HierarchicalDeployment.create(hierarchical(), { seed: 6, market, maxEpisodes: 5, agentSupervision: { directive: 'stop' } }),
    );
    const aggregates = collect(deployment, 'aggregate');
    const stopped = collect(deployment, 'agent-stopped');
    deployment.inject({ seed: 1, steps: [{ at: { afterMessages: 12, path: '/hierarchical/leader' }, kill: '/hierarchical/leader' }] });
    const metrics = await deployment.run({ episodes: 5 });
    const h = metrics.topologyMetrics;
    expect(metrics.crashes).toBe(1);
    expect(stopped.map((e) => e.agent)).toEqual(['leader']);
    expect(h.leaderLive).toBe(false);
    // Nothing aggregated once the leader was gone.
    expect(aggregates.every((a) => a.at <= stopped[0]!.at)).toBe(true);
    expect(h.aggregations + h.aggregationsMissed).toBe(5);
    expect(h.aggregationsMissed).toBeGreaterThanOrEqual(3);
    expect(h.timeToRecover.count).toBe(0);
    // No leader, no deployment accuracy; the workers trade on what they have.
    expect(metrics.learningCurve.at(-1)!.accuracy).toBeNaN();
    expect(metrics.perAgent.filter((a) => a.id.startsWith('worker')).map((a) => a.episodesTrained)).toEqual([5, 5, 5]);
    expect(h.workerAccuracy).toBeGreaterThan(0.8);
  });

  it('restarts a killed leader from its memory with every committed pattern, and resumes aggregating', async () => {
    const deployment = deployments.track(
      HierarchicalDeployment.create(hierarchical(), { seed: 7, market, maxEpisodes: 6, agentSupervision: { backoff: { minMs: 300, maxMs: 300, jitter: 0 } } }),
    );
    await deployment.run({ episodes: 3 });
    const before = await idsOf(deployment, '/hierarchical/leader');
    expect(before.size).toBeGreaterThan(0);
    const restarted = new Promise<void>((resolve) => deployment.events.on('restart', () => resolve()));
    expect(deployment.runtime.faults.kill(deployment.runtime.lookup('/hierarchical/leader')!)).toBe(true);
    await restarted;
    const after = await idsOf(deployment, '/hierarchical/leader');
    expect([...before].filter((id) => !after.has(id))).toEqual([]);
    const metrics = await deployment.run({ episodes: 3 });
    const h = metrics.topologyMetrics;
    expect(metrics.restarts).toBe(1);
    expect(h.aggregations).toBe(6);
    expect(h.timesToRecoverMs).toHaveLength(1);
    expect(h.timesToRecoverMs[0]).toBeGreaterThanOrEqual(300);
    expect(metrics.learningCurve.every((p) => Number.isFinite(p.accuracy))).toBe(true);
    expect(metrics.accuracy).toBeGreaterThan(0.8);
  });

  it('hands the lead to the standby when the leader is killed, with no episode left without a leader, and reports the time to recover', async () => {
    const deployment = deployments.track(
      HierarchicalDeployment.create(hierarchical({ standby: true }), {
        seed: 8,
        market,
        maxEpisodes: 8,
        // The leader stays down long enough for the standby to take over, and comes back later.
        agentSupervision: { backoff: { minMs: 2_000, maxMs: 2_000, jitter: 0 } },
      }),
    );
    deployment.inject({ seed: 1, steps: [{ at: { afterMessages: 12, path: '/hierarchical/leader' }, kill: '/hierarchical/leader' }] });
    const restarted = new Promise<void>((resolve) => deployment.events.on('restart', () => resolve()));
    let metrics = await deployment.run({ episodes: 4 });
    let h = metrics.topologyMetrics;
    expect(metrics.agents).toBe(3);
    expect(h.failovers).toHaveLength(1);
    expect(h.failovers[0]).toMatchObject({ from: 'leader', to: 'standby' });
    expect(h.leader).toBe('standby');
    expect(h.timesToRecoverMs).toHaveLength(1);
    // Sooner than the leader's own restart would have brought it back.
    expect(h.timesToRecoverMs[0]).toBeLessThan(2_000);
    expect(metrics.learningCurve.every((p) => Number.isFinite(p.accuracy))).toBe(true);
    // The standby took over with everything the leader had aggregated (a point's patterns are the acting leader's).
    const takeover = h.failovers[0]!.episode;
    expect(takeover).toBeGreaterThan(1);
    expect(metrics.learningCurve[takeover - 1]!.patterns).toBeGreaterThanOrEqual(metrics.learningCurve[takeover - 2]!.patterns);
    await restarted;
    metrics = await deployment.run({ episodes: 4 });
    h = metrics.topologyMetrics;
    // The restarted leader follows the standby now, brought up to date by its shipments.
    expect(h.leader).toBe('standby');
    expect(metrics.perAgent.find((a) => a.id === 'leader')!.live).toBe(true);
    const [acting, follower] = await Promise.all([idsOf(deployment, '/hierarchical/standby'), idsOf(deployment, '/hierarchical/leader')]);
    // It mirrors the acting leader: everything it holds, and nothing the acting leader merged away or never had.
    expect(follower).toEqual(acting);
    expect(metrics.accuracy).toBeGreaterThan(0.8);
  });

  it('gives the same learning curve from the same seed', async () => {
    const curve = async () => {
      const deployment = deployments.track(HierarchicalDeployment.create(hierarchical(), { seed: 9, market, maxEpisodes: 3 }));
      return (await deployment.run({ episodes: 3 })).learningCurve;
    };
    expect(await curve()).toEqual(await curve());
  });
});

describe('hierarchical aggregation', () => {
  const space = featureSpace();
  const pattern = (id: string, origin: string, confidence: number, support: number, version = 1): Pattern => ({
    id,
    embedding: new Float32Array(space.dimensions).fill(0.1),
    outcome: 'up',
    confidence,
    support,
    successes: 0,
    version,
    origin,
    featureSpaceId: space.id,
    tags: [],
    consolidated: false,
    plasticity: 1,
    createdAt: 0,
    updatedAt: 0,
  });

  it("weighs a worker by its edge over chance relative to the best worker's", () => {
    expect(workerWeight(0.9, 0.9)).toBe(1);
    expect(workerWeight(0.7, 0.9)).toBeCloseTo(0.5);
    expect(workerWeight(0.45, 0.9)).toBe(0);
    expect(workerWeight(Number.NaN, 0.9)).toBe(1);
  });

  it('shrinks the edge of a weaker worker’s patterns without turning their vote', () => {
    expect(weighted(pattern('a', 'w', 0.9, 3), 0.5).confidence).toBeCloseTo(0.7);
    expect(weighted(pattern('a', 'w', 0.3, 3), 0.5).confidence).toBeCloseTo(0.4);
    expect(weighted(pattern('a', 'w', 0.9, 3), 1).confidence).toBe(0.9);
  });

  it("sends a worker the leader's most useful patterns it did not originate and has not been sent", () => {
    const held = [pattern('a', 'w1', 0.9, 10), pattern('b', 'w2', 0.8, 10), pattern('c', 'w2', 0.9, 10), pattern('d', 'w2', 0.4, 50), pattern('e', 'w3', 0.9, 2, 3)];
    expect(topDown(held, 'w1', new Map([['e', 3]]), 10).map((p) => p.id)).toEqual(['c', 'b']);
    expect(topDown(held, 'w1', new Map(), 1).map((p) => p.id)).toEqual(['c']);
  });
});
