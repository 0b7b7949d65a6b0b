import { DeploymentConfigError, type DeploymentConfig } from './config.js';

/**
 * The config with `n` agents where its topology counts them: agentCount for
 * mesh and ring, the workers of a hierarchy, the initial agents of
 * auto-scale (raising maxAgents to match), and each group of blue-green.
 * Multi-strategy runs one agent per strategy, so its size is its strategies.
 */
export function withAgentCount(config: DeploymentConfig, n: number): DeploymentConfig {
  if (!Number.isSafeInteger(n) || n < 1) throw new DeploymentConfigError('agents', `must be a positive integer, got ${n}`);
  switch (config.topology) {
    case 'mesh':
      if (n < 2) throw new DeploymentConfigError('agents', 'a mesh needs at least 2 agents');
      return { ...config, agentCount: n };
    case 'ring':
      if (n < 2) throw new DeploymentConfigError('agents', 'a ring needs at least 2 agents');
      return { ...config, agentCount: n };
    case 'hierarchical':
      return { ...config, workers: { ...config.workers, count: n } };
    case 'auto-scale':
      return { ...config, initialAgents: n, maxAgents: Math.max(config.maxAgents, n) };
    case 'blue-green':
      return { ...config, blue: { ...config.blue, agents: n }, green: { ...config.green, agents: n } };
    case 'multi-strategy':
      throw new DeploymentConfigError('agents', 'multi-strategy runs one agent per strategy: choose its strategies instead');
  }
}
