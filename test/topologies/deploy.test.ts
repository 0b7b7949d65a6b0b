import { describe, expect, it } from 'vitest';
import { DeploymentConfigError } from '../../src/topologies/config.js';
import { deploy } from '../../src/topologies/deploy.js';
import { MeshDeployment } from '../../src/topologies/mesh.js';
import { useDeployments } from './support.js';

const deployments = useDeployments();

describe('deploy', () => {
  it('starts the topology a reference config names, with the same Deployment shape for all', async () => {
    const deployment = deployments.track(deploy({ topology: 'mesh', agentCount: 2, learningRate: 0.01, syncProtocol: 'quic', consensusThreshold: 0.67 }, { maxEpisodes: 1, market: { evalEpisodes: 2 } }));
    expect(deployment).toBeInstanceOf(MeshDeployment);
    expect(deployment.topology).toBe('mesh');
    const metrics = await deployment.run({ episodes: 1 });
    expect(metrics.agents).toBe(2);
    expect(deployment.runtime.lookup('/mesh/agent-1')).toBeDefined();
  });

  it('refuses a bad config before starting anything', () => {
    expect(() => deploy({ topology: 'torus' })).toThrow(DeploymentConfigError);
    expect(() => deploy({ topology: 'mesh', agentCount: 5, leader: {} })).toThrow(/deployment config key leader: is not a mesh key/);
  });
});
