import { DeploymentConfigError, parseDeploymentConfig, type DeploymentConfig, type TopologyConfigs, type TopologyName } from './config.js';
import type { Deployment, DeployOptions } from './deployment.js';
import { AutoScaleDeployment } from './auto-scale.js';
import { HierarchicalDeployment } from './hierarchical.js';
import { MeshDeployment } from './mesh.js';
import { RingDeployment } from './ring.js';

type Factories = { readonly [T in TopologyName]?: (config: TopologyConfigs[T], options: DeployOptions) => Deployment<T> };

const FACTORIES: Factories = {
  mesh: (config, options) => MeshDeployment.create(config, options),
  hierarchical: (config, options) => HierarchicalDeployment.create(config, options),
  ring: (config, options) => RingDeployment.create(config, options),
  'auto-scale': (config, options) => AutoScaleDeployment.create(config, options),
};

/**
 * Starts a deployment from a config as the reference writes it: validated
 * (an unknown topology or key, or a value out of range, is a
 * `DeploymentConfigError` naming it), then wired by its topology.
 */
export function deploy(input: unknown, options: DeployOptions = {}): Deployment {
  const config: DeploymentConfig = parseDeploymentConfig(input);
  const factory = FACTORIES[config.topology] as ((config: DeploymentConfig, options: DeployOptions) => Deployment) | undefined;
  if (factory === undefined) throw new DeploymentConfigError('topology', `${config.topology} cannot be deployed by this version`);
  return factory(config, options);
}

/** Whether `deploy` can start this topology. */
export function deployable(topology: TopologyName): boolean {
  return FACTORIES[topology] !== undefined;
}
