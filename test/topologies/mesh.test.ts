import { describe, expect, it } from 'vitest';
import { parseDeploymentConfig, type MeshConfig } from '../../src/topologies/config.js';
import type { DeploymentEvent } from '../../src/topologies/events.js';
import { MeshDeployment } from '../../src/topologies/mesh.js';
import { featureSeries } from '../../src/learning/episode.js';
import { featureSpace } from '../../src/learning/features.js';
import { simulateMarket } from '../../src/market/simulator.js';
import { patternsByOrigin, useDeployments } from './support.js';

const deployments = useDeployments();
const market = { evalEpisodes: 4 } as const;

function mesh(input: Partial<MeshConfig> = {}): MeshConfig {
  return parseDeploymentConfig({ topology: 'mesh', ...input }) as MeshConfig;
}

/** Every pattern an agent originated is in every other agent's memory. */
async function expectFullyReplicated(dataDir: string, agents: readonly string[]): Promise<void> {
  const memories = new Map(await Promise.all(agents.map(async (id) => [id, await patternsByOrigin(dataDir, id)] as const)));
  for (const origin of agents) {
    const own = memories.get(origin)!.get(origin) ?? new Set<string>();
    expect(own.size).toBeGreaterThan(0);
    for (const peer of agents) {
      const held = memories.get(peer)!.get(origin) ?? new Set<string>();
      expect([...own].filter((id) => !held.has(id)), `${peer} misses patterns of ${origin}`).toEqual([]);
    }
  }
}

describe('mesh', () => {
  it('decides by consensus of its agents, well above chance and close to the oracle', async () => {
    const deployment = deployments.track(MeshDeployment.create(mesh({ agentCount: 3 }), { seed: 2, market, maxEpisodes: 8 }));
    const metrics = await deployment.run({ episodes: 8 });
    expect(metrics.learningCurve).toHaveLength(8);
    expect(metrics.accuracy).toBeGreaterThan(0.8);
    expect(metrics.accuracy).toBeLessThan(metrics.oracleAccuracy + 0.05);
    expect(metrics.agents).toBe(3);
    expect(metrics.perAgent.map((a) => a.episodesTrained)).toEqual([8, 8, 8]);
    const { votesDecided, abstentions } = metrics.topologyMetrics;
    expect(votesDecided).toBeGreaterThan(0);
    expect(votesDecided + abstentions).toBeLessThanOrEqual(4 * 63);
  });

  it('replicates every committed pattern to every live peer, and measures how long that takes', async () => {
    const dataDir = deployments.dir();
    const deployment = deployments.track(MeshDeployment.create(mesh({ agentCount: 4 }), { seed: 3, market, maxEpisodes: 5, dataDir }));
    const syncs: DeploymentEvent[] = [];
    deployment.events.on('sync', (event) => syncs.push(event));
    const metrics = await deployment.run({ episodes: 5 });
    const { syncLatency, patternsReplicated, patternsRefused } = metrics.topologyMetrics;
    expect(syncLatency.count).toBeGreaterThan(0);
    expect(syncLatency.p50Ms).toBeGreaterThanOrEqual(0);
    expect(syncLatency.p99Ms).toBeGreaterThanOrEqual(syncLatency.p50Ms);
    expect(patternsRefused).toBe(0);
    expect(patternsReplicated).toBeGreaterThan(0);
    expect(metrics.bytesExchanged).toBeGreaterThan(0);
    expect(syncs.length).toBeGreaterThanOrEqual(4 * 3);
    await deployment.stop();
    await expectFullyReplicated(dataDir, ['agent-1', 'agent-2', 'agent-3', 'agent-4']);
  });

  it('keeps learning and voting while an agent is down, and the restarted agent catches up with no pattern lost', async () => {
    const dataDir = deployments.dir();
    const deployment = deployments.track(
      MeshDeployment.create(mesh({ agentCount: 5 }), {
        seed: 4,
        market,
        maxEpisodes: 8,
        dataDir,
        // Slow enough a restart that the agent misses whole rounds.
        agentSupervision: { backoff: { minMs: 1_500, maxMs: 1_500, jitter: 0 } },
      }),
    );
    const votes: Extract<DeploymentEvent, { type: 'vote' }>[] = [];
    deployment.events.on('vote', (event) => votes.push(event));
    const restarted = new Promise<void>((resolve) => deployment.events.on('restart', () => resolve()));
    deployment.inject({ seed: 1, steps: [{ at: { afterMessages: 3, path: '/mesh/agent-2' }, kill: '/mesh/agent-2' }] });
    await deployment.run({ episodes: 4 });
    await restarted;
    const metrics = await deployment.run({ episodes: 4 });

    expect(metrics.crashes).toBe(1);
    expect(metrics.restarts).toBe(1);
    expect(votes.some((vote) => vote.live === 4)).toBe(true);
    expect(votes.every((vote) => vote.decided > 0)).toBe(true);
    expect(votes.at(-1)!.live).toBe(5);
    expect(metrics.accuracy).toBeGreaterThan(0.8);
    const trained = new Map(metrics.perAgent.map((a) => [a.id, a]));
    expect(trained.get('agent-2')!.restarts).toBe(1);
    await deployment.stop();
    await expectFullyReplicated(dataDir, ['agent-1', 'agent-2', 'agent-3', 'agent-4', 'agent-5']);
  });

  it('keeps deciding with two of five agents killed, the threshold taken over the live ones', async () => {
    const deployment = deployments.track(
      MeshDeployment.create(mesh({ agentCount: 5 }), { seed: 5, market, maxEpisodes: 6, agentSupervision: { directive: 'stop' } }),
    );
    const votes: Extract<DeploymentEvent, { type: 'vote' }>[] = [];
    deployment.events.on('vote', (event) => votes.push(event));
    deployment.inject({
      seed: 2,
      steps: [
        { at: { afterMessages: 3, path: '/mesh/agent-1' }, kill: '/mesh/agent-1' },
        { at: { afterMessages: 3, path: '/mesh/agent-4' }, kill: '/mesh/agent-4' },
      ],
    });
    const metrics = await deployment.run({ episodes: 6 });
    expect(votes.at(-1)!.live).toBe(3);
    expect(votes.at(-1)!.decided).toBeGreaterThan(0);
    expect(metrics.accuracy).toBeGreaterThan(0.75);
    expect(metrics.perAgent.filter((a) => a.live).map((a) => a.id)).toEqual(['agent-2', 'agent-3', 'agent-5']);
  });

  it('abstains more often the more agreement it demands', async () => {
    const abstentionRate = async (consensusThreshold: number) => {
      const deployment = deployments.track(MeshDeployment.create(mesh({ agentCount: 5, consensusThreshold }), { seed: 6, market, maxEpisodes: 3 }));
      return (await deployment.run({ episodes: 3 })).topologyMetrics.abstentionRate;
    };
    const lenient = await abstentionRate(0.4);
    const strict = await abstentionRate(1);
    expect(strict).toBeGreaterThan(lenient);
  });

  it('gives the same learning curve from the same seed', async () => {
    const curve = async () => {
      const deployment = deployments.track(MeshDeployment.create(mesh({ agentCount: 3 }), { seed: 7, market, maxEpisodes: 3 }));
      return (await deployment.run({ episodes: 3 })).learningCurve;
    };
    expect(await curve()).toEqual(await curve());
  });
});

describe('mesh with validation on recent data', () => {
  it('screens what arrives against what each agent trained on, and still replicates what agrees', async () => {
    const dataDir = deployments.dir();
    const deployment = deployments.track(MeshDeployment.create(mesh({ agentCount: 3, validateOnRecentData: true }), { seed: 8, market, maxEpisodes: 4, dataDir }));
    const metrics = await deployment.run({ episodes: 4 });
    const { patternsReplicated, patternsRefused } = metrics.topologyMetrics;
    expect(patternsReplicated).toBeGreaterThan(0);
    // Agents of one market mostly agree: screening refuses a few percent (18 of 590 with this seed), each counted.
    expect(patternsRefused).toBeGreaterThan(0);
    expect(patternsRefused).toBeLessThan(patternsReplicated / 5);
    expect(metrics.accuracy).toBeGreaterThan(0.8);
  });
});

describe('mesh decisions', () => {
  it('answers one feature vector with the consensus of the live agents and the vote behind it', async () => {
    const deployment = deployments.track(MeshDeployment.create(mesh({ agentCount: 3 }), { seed: 9, market, maxEpisodes: 3 }));
    await deployment.run({ episodes: 3 });
    const bars = simulateMarket({ seed: 99, length: 200 }).assets[0]!.bars;
    const decision = await deployment.decide(featureSeries(bars, featureSpace()).features[150]!);
    expect(decision.live).toBe(3);
    expect(decision.votes.up + decision.votes.down + decision.votes.flat).toBe(3);
    const agreeing = Math.max(decision.votes.up, decision.votes.down);
    expect(decision.direction === 0).toBe(agreeing < 0.67 * 3);
  });

  it('refuses a feature vector of the wrong size with a typed error', async () => {
    const deployment = deployments.track(MeshDeployment.create(mesh({ agentCount: 2 }), { seed: 9, market, maxEpisodes: 1 }));
    await expect(deployment.decide(new Float32Array(3))).rejects.toMatchObject({ code: 'FEATURE_DIMENSIONS' });
  });
});
