import { describe, expect, it } from 'vitest';
import { deploy } from '../../src/topologies/deploy.js';
import type { DeploymentMetrics } from '../../src/topologies/deployment.js';
import { exposeDeploymentMetrics } from '../../src/topologies/prometheus.js';
import { useDeployments } from './support.js';

const deployments = useDeployments();

describe('deployment Prometheus metrics', () => {
  it('expose accuracy, agents, patterns per agent and the histogram of mesh sync latencies', async () => {
    const deployment = deployments.track(deploy({ topology: 'mesh', agentCount: 3 }, { maxEpisodes: 3, market: { evalEpisodes: 2 } }));
    const registry = exposeDeploymentMetrics(deployment);
    const metrics = (await deployment.run({ episodes: 3 })) as DeploymentMetrics<'mesh'>;
    const text = await registry.metrics();
    expect(text).toContain(`swarmbank_accuracy{topology="mesh"} ${metrics.accuracy}`);
    expect(text).toContain('swarmbank_agents{topology="mesh"} 3');
    expect(text).toMatch(/swarmbank_agent_patterns\{topology="mesh",agent="agent-2"\} \d+/);
    const count = Number(/swarmbank_sync_latency_seconds_count\{topology="mesh"\} (\d+)/.exec(text)?.[1]);
    expect(count).toBe(metrics.topologyMetrics.syncLatency.count);
    expect(text).toContain('swarmbank_messages_processed_total{runtime="mesh"}');
    // A second scrape observes nothing twice.
    expect(Number(/swarmbank_sync_latency_seconds_count\{topology="mesh"\} (\d+)/.exec(await registry.metrics())?.[1])).toBe(count);
  });
});
