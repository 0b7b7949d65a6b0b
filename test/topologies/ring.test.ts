import { describe, expect, it } from 'vitest';
import { ask } from '../../src/actors/ask.js';
import type { ActorRef } from '../../src/actors/ref.js';
import type { AgentMessage, ExportReply } from '../../src/agents/messages.js';
import { featureSpace } from '../../src/learning/features.js';
import { decodeBundle } from '../../src/memory/bundle.js';
import type { Pattern } from '../../src/memory/pattern.js';
import { parseDeploymentConfig, type RingConfig } from '../../src/topologies/config.js';
import type { DeploymentEvent } from '../../src/topologies/events.js';
import { RingDeployment } from '../../src/topologies/ring.js';
import { distilled } from '../../src/topologies/ring-distill.js';
import { patternsByOrigin, useDeployments } from './support.js';

const deployments = useDeployments();
const market = { evalEpisodes: 4 } as const;

function ring(input: Partial<RingConfig> = {}): RingConfig {
  return parseDeploymentConfig({ topology: 'ring', ...input }) as RingConfig;
}

/** The origins of the patterns a live stage holds, asked of the stage itself. */
async function originsHeld(deployment: RingDeployment, stage: string): Promise<string[]> {
  const ref = deployment.runtime.lookup(`/ring/${stage}`) as ActorRef<AgentMessage>;
  const reply = await ask(ref, (replyTo: ActorRef<ExportReply>) => ({ type: 'export', replyTo }), 5_000);
  if (!reply.ok) throw new Error(reply.error.message);
  const space = featureSpace();
  return [...new Set(decodeBundle(reply.bundle, { featureSpaceId: space.id, dimensions: space.dimensions }).patterns.map((p) => p.origin))].sort();
}

function transfers(deployment: RingDeployment): Extract<DeploymentEvent, { type: 'transfer' }>[] {
  const events: Extract<DeploymentEvent, { type: 'transfer' }>[] = [];
  deployment.events.on('transfer', (event) => events.push(event));
  return events;
}

describe('ring', () => {
  it('hands each stage’s distilled knowledge to the next every transferInterval episodes, once around the ring', async () => {
    const deployment = deployments.track(RingDeployment.create(ring({ agentCount: 3, transferInterval: 3 }), { seed: 2, market, maxEpisodes: 6 }));
    const handed = transfers(deployment);
    const metrics = await deployment.run({ episodes: 6 });
    const r = metrics.topologyMetrics;
    const hops = ['agent-1→agent-2', 'agent-2→agent-3', 'agent-3→agent-1'];
    expect(handed.map((t) => `${t.from}→${t.to}`)).toEqual([...hops, ...hops]);
    expect(r.passes).toBe(2);
    expect(r.transfers.map((t) => t.episode)).toEqual([3, 3, 3, 6, 6, 6]);
    expect(r.transfers.every((t) => t.patterns > 0 && t.bytes > 0 && t.bypassed.length === 0)).toBe(true);
    expect(metrics.agents).toBe(3);
    expect(metrics.perAgent.map((a) => a.episodesTrained)).toEqual([6, 6, 6]);
    expect(metrics.accuracy).toBeGreaterThan(0.8);
    expect(metrics.accuracy).toBeLessThan(metrics.oracleAccuracy + 0.05);
    expect(metrics.bytesExchanged).toBeGreaterThan(0);
  });

  it('measures quality per stage, the gain along the ring, the knowledge lost per transfer and the time to converge', async () => {
    const deployment = deployments.track(RingDeployment.create(ring({ agentCount: 4, transferInterval: 2 }), { seed: 3, market, maxEpisodes: 6 }));
    const metrics = await deployment.run({ episodes: 6 });
    const r = metrics.topologyMetrics;
    expect(r.stages.map((s) => s.id)).toEqual(['agent-1', 'agent-2', 'agent-3', 'agent-4']);
    for (const stage of r.stages) {
      expect(stage.accuracy).toBeGreaterThan(0.75);
      expect(Number.isFinite(stage.lastGain)).toBe(true);
      expect(stage.convergenceEpisode).not.toBeNull();
    }
    for (const t of r.transfers) {
      expect(t.gain).toBeCloseTo(t.accuracyAfter - t.accuracyBefore, 12);
      expect(t.accuracyLost).toBe(Math.max(0, t.accuracyFrom - t.accuracyAfter));
      expect(t.pruned).toBeLessThanOrEqual(t.senderPatterns);
    }
    const lastPass = r.transfers.slice(-4);
    expect(r.gainAlongRing).toBeCloseTo(lastPass.at(-1)!.accuracyAfter - lastPass[0]!.accuracyFrom, 12);
    expect(Number.isFinite(r.meanGainPerTransfer)).toBe(true);
    // Distillation prunes what was seen once: that is the knowledge a hand-over may lose, counted.
    expect(r.patternsLostPerTransfer).toBeGreaterThan(0);
    expect(r.accuracyLostPerTransfer).toBeGreaterThanOrEqual(0);
    expect(r.accuracyLostPerTransfer).toBeLessThan(0.05);
    expect(metrics.convergenceEpisode).toBe(5);
  });

  it('carries every stage’s knowledge to the first stage in one pass, and to every stage in two', async () => {
    const dataDir = deployments.dir();
    const deployment = deployments.track(RingDeployment.create(ring({ agentCount: 3, transferInterval: 1 }), { seed: 4, market, maxEpisodes: 2, dataDir }));
    await deployment.run({ episodes: 1 });
    const stages = ['agent-1', 'agent-2', 'agent-3'];
    const pass = await deployment.metrics();
    expect(pass.topologyMetrics.transfers.map((t) => t.to)).toEqual(['agent-2', 'agent-3', 'agent-1']);
    expect(await originsHeld(deployment, 'agent-1')).toEqual(stages);
    expect(await originsHeld(deployment, 'agent-2')).toEqual(['agent-1', 'agent-2']);
    await deployment.run({ episodes: 1 });
    await deployment.stop();
    for (const stage of stages) {
      const held = await patternsByOrigin(dataDir, stage);
      expect([...held.keys()].sort(), `${stage} holds knowledge of every stage`).toEqual(stages);
    }
  });

  it('passes over a dead stage, and restores it in the ring once it restarts', async () => {
    const deployment = deployments.track(
      RingDeployment.create(ring({ agentCount: 4, transferInterval: 1 }), {
        seed: 5,
        market,
        maxEpisodes: 6,
        // Down long enough to miss both passes of the first run.
        agentSupervision: { backoff: { minMs: 3_000, maxMs: 3_000, jitter: 0 } },
      }),
    );
    const handed = transfers(deployment);
    const restarted = new Promise<void>((resolve) => deployment.events.on('restart', () => resolve()));
    deployment.inject({ seed: 1, steps: [{ at: { afterMessages: 1, path: '/ring/agent-2' }, kill: '/ring/agent-2' }] });
    let metrics = await deployment.run({ episodes: 2 });
    expect(metrics.crashes).toBe(1);
    expect(handed.map((t) => `${t.from}→${t.to}`)).toEqual(['agent-1→agent-3', 'agent-3→agent-4', 'agent-4→agent-1', 'agent-1→agent-3', 'agent-3→agent-4', 'agent-4→agent-1']);
    expect(metrics.topologyMetrics.bypassed).toBe(2);
    expect(metrics.topologyMetrics.transfers[0]!.bypassed).toEqual(['agent-2']);
    expect(metrics.accuracy).toBeGreaterThan(0.75);
    await restarted;
    handed.length = 0;
    metrics = await deployment.run({ episodes: 1 });
    expect(handed.map((t) => `${t.from}→${t.to}`)).toEqual(['agent-1→agent-2', 'agent-2→agent-3', 'agent-3→agent-4', 'agent-4→agent-1']);
    expect(metrics.topologyMetrics.stages.every((s) => s.live)).toBe(true);
    expect(metrics.perAgent.find((a) => a.id === 'agent-2')!.restarts).toBe(1);
    // The restarted stage came back with what it had committed, and received the ring's knowledge again.
    expect(metrics.perAgent.find((a) => a.id === 'agent-2')!.patterns).toBeGreaterThan(0);
  });

  it('gives the same learning curve from the same seed', async () => {
    const curve = async () => {
      const deployment = deployments.track(RingDeployment.create(ring({ agentCount: 3, transferInterval: 1 }), { seed: 6, market, maxEpisodes: 3 }));
      return (await deployment.run({ episodes: 3 })).learningCurve;
    };
    expect(await curve()).toEqual(await curve());
  });
});

describe('ring hand-over distillation', () => {
  const space = featureSpace();
  const pattern = (id: string, direction: number, support: number, outcome: 'up' | 'down' = 'up'): Pattern => ({
    id,
    embedding: Float32Array.from({ length: space.dimensions }, (_, i) => (i === 0 ? direction : 0.01 * i)),
    outcome,
    confidence: 0.8,
    support,
    successes: support,
    version: 1,
    origin: 'agent-1',
    featureSpaceId: space.id,
    tags: [],
    consolidated: false,
    plasticity: 1,
    createdAt: 0,
    updatedAt: 0,
  });

  it('merges near-duplicates into one and leaves patterns seen once behind, counting both', () => {
    const held = [pattern('a', 1, 5), pattern('b', 1, 3), pattern('c', -1, 1, 'down'), pattern('d', -1, 4)];
    const handed = distilled(held, space.dimensions, { similarity: 0.95, minSupport: 2, minConfidence: 0 });
    expect(handed.patterns.map((p) => p.id)).toEqual(['a', 'd']);
    expect(handed.patterns[0]!.support).toBe(8);
    expect(handed.patterns[0]!.version).toBe(2);
    expect(handed.merged).toBe(1);
    expect(handed.pruned).toBe(1);
    // The sender's patterns are left as they were.
    expect(held[0]!.support).toBe(5);
  });
});
