import { parseDeploymentConfig, type DeploymentConfig, type TopologyConfigs, type TopologyName } from './config.js';
import type { Deployment, DeployOptions } from './deployment.js';
import { AutoScaleDeployment } from './auto-scale.js';
import { BlueGreenDeployment } from './blue-green.js';
import { HierarchicalDeployment } from './hierarchical.js';
import { MeshDeployment } from './mesh.js';
import { MultiStrategyDeployment } from './multi-strategy.js';
import { RingDeployment } from './ring.js';

type Factories = { readonly [T in TopologyName]: (config: TopologyConfigs[T], options: DeployOptions) => Deployment<T> };

const FACTORIES: Factories = {
  mesh: (config, options) => MeshDeployment.create(config, options),
  hierarchical: (config, options) => HierarchicalDeployment.create(config, options),
  ring: (config, options) => RingDeployment.create(config, options),
  'auto-scale': (config, options) => AutoScaleDeployment.create(config, options),
  'multi-strategy': (config, options) => MultiStrategyDeployment.create(config, options),
  'blue-green': (config, options) => BlueGreenDeployment.create(config, options),
};

/**
 * Starts a deployment from a config as the reference writes it: validated
 * (an unknown topology or key, or a value out of range, is a
 * `DeploymentConfigError` naming it), then wired by its topology.
 */
export function deploy(input: unknown, options: DeployOptions = {}): Deployment {
  const config: DeploymentConfig = parseDeploymentConfig(input);
  const factory = FACTORIES[config.topology] as (config: DeploymentConfig, options: DeployOptions) => Deployment;
  return factory(config, options);
}
