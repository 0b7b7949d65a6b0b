import { z } from 'zod';
import { SwarmbankError } from '../errors.js';
import { refuseRepeats } from '../learning/scenarios/config.js';
import { MARKET_CONDITIONS, STRATEGIES } from './strategies.js';

export const TOPOLOGIES = ['mesh', 'hierarchical', 'ring', 'auto-scale', 'multi-strategy', 'blue-green'] as const;
export type TopologyName = (typeof TOPOLOGIES)[number];

/** A deployment config that names no known topology, has a key its topology does not know, or a value out of range. */
export class DeploymentConfigError extends SwarmbankError {
  constructor(
    readonly key: string,
    message: string,
  ) {
    super('DEPLOYMENT_CONFIG', key === '' ? `deployment config: ${message}` : `deployment config key ${key}: ${message}`);
  }
}

/**
 * The learner may take any step in (0, 1]; the reference warns above 0.05,
 * which is the doctor's warning to give, not a reason to refuse a config.
 */
const learningRate = z.number().gt(0).lte(1);
const agents = z.number().int().min(1).max(1_000);
const memorySize = z.number().int().min(1);

export const meshSchema = z.strictObject({
  topology: z.literal('mesh'),
  agentCount: agents.min(2).default(5),
  learningRate: learningRate.default(0.01),
  /** `quic` asks for HTTP/3 between nodes; in one process the mesh syncs by messages and this only records the wish. */
  syncProtocol: z.enum(['quic', 'http2']).default('quic'),
  /** Share of live agents that must agree for a decision to stand. */
  consensusThreshold: z.number().gt(0).lte(1).default(0.67),
  /** Besides validating their fields, refuse arriving patterns that contradict what the receiver trained on lately. */
  validateOnRecentData: z.boolean().default(false),
});

export const hierarchicalSchema = z.strictObject({
  topology: z.literal('hierarchical'),
  leader: z.strictObject({ learningRate: learningRate.default(0.005), memorySize: memorySize.default(50_000) }).default({ learningRate: 0.005, memorySize: 50_000 }),
  workers: z
    .strictObject({ count: agents.default(4), learningRate: learningRate.default(0.01), memorySize: memorySize.default(10_000) })
    .default({ count: 4, learningRate: 0.01, memorySize: 10_000 }),
  /** A standby leader kept in step with the leader, which takes over when the leader goes down. */
  standby: z.boolean().default(false),
});

export const ringSchema = z.strictObject({
  topology: z.literal('ring'),
  agentCount: agents.min(2).default(4),
  learningRate: learningRate.default(0.01),
  /** Episodes between hand-overs from each stage to the next. */
  transferInterval: z.number().int().min(1).default(15),
});

export const autoScaleSchema = z
  .strictObject({
    topology: z.literal('auto-scale'),
    initialAgents: agents.default(2),
    maxAgents: agents.default(10),
    scaleUpTrigger: z
      .strictObject({
        newPatterns: z.number().int().min(1),
        /**
         * Ours, not the reference's: also scale up when the window's mean VIX-like index is at or above this.
         * The reference triggers cannot see a volatility regime (the features are volatility-normalized).
         */
        vix: z.number().gt(0).optional(),
      })
      .default({ newPatterns: 20 }),
    scaleDownTrigger: z
      .strictObject({
        memoryReduction: z.number().gt(0).lt(1),
        /** Ours, not the reference's: also scale down when the window's mean VIX-like index is at or below this. */
        vix: z.number().gt(0).optional(),
      })
      .default({ memoryReduction: 0.3 }),
    vixAdaptation: z.boolean().default(true),
  })
  .refine((c) => c.maxAgents >= c.initialAgents, { message: 'must be at least initialAgents', path: ['maxAgents'] })
  .refine((c) => c.scaleUpTrigger.vix === undefined || c.scaleDownTrigger.vix === undefined || c.scaleDownTrigger.vix < c.scaleUpTrigger.vix, {
    message: 'must be below scaleUpTrigger.vix, or the swarm would scale up and down on the same index',
    path: ['scaleDownTrigger', 'vix'],
  });

export const multiStrategySchema = z.strictObject({
  topology: z.literal('multi-strategy'),
  // One agent runs per strategy and condition, so a repeat would be echoed in the config yet run once.
  strategies: z.array(z.enum(STRATEGIES)).min(1).superRefine(refuseRepeats).default([...STRATEGIES]),
  marketConditions: z.array(z.enum(MARKET_CONDITIONS)).min(1).superRefine(refuseRepeats).default([...MARKET_CONDITIONS]),
  metaLearning: z.boolean().default(true),
  /** Trades between the meta-learner's choices of strategy per condition. */
  rotationInterval: z.number().int().min(1).default(10),
});

const group = z.strictObject({ agents: agents, version: z.string().min(1) });

export const blueGreenSchema = z.strictObject({
  topology: z.literal('blue-green'),
  blue: group.default({ agents: 2, version: 'v1.0' }),
  green: group.default({ agents: 2, version: 'v2.0' }),
  knowledgeTransfer: z.boolean().default(true),
  abTesting: z.boolean().default(true),
  rollbackPreservation: z.boolean().default(true),
});

const SCHEMAS = {
  mesh: meshSchema,
  hierarchical: hierarchicalSchema,
  ring: ringSchema,
  'auto-scale': autoScaleSchema,
  'multi-strategy': multiStrategySchema,
  'blue-green': blueGreenSchema,
} as const;

export type MeshConfig = z.infer<typeof meshSchema>;
export type HierarchicalConfig = z.infer<typeof hierarchicalSchema>;
export type RingConfig = z.infer<typeof ringSchema>;
export type AutoScaleConfig = z.infer<typeof autoScaleSchema>;
export type MultiStrategyConfig = z.infer<typeof multiStrategySchema>;
export type BlueGreenConfig = z.infer<typeof blueGreenSchema>;

export interface TopologyConfigs {
  readonly mesh: MeshConfig;
  readonly hierarchical: HierarchicalConfig;
  readonly ring: RingConfig;
  readonly 'auto-scale': AutoScaleConfig;
  readonly 'multi-strategy': MultiStrategyConfig;
  readonly 'blue-green': BlueGreenConfig;
}

export type DeploymentConfig = TopologyConfigs[TopologyName];
export type DeploymentInput = { readonly [N in TopologyName]: z.input<(typeof SCHEMAS)[N]> }[TopologyName];

export function isTopologyName(name: unknown): name is TopologyName {
  return typeof name === 'string' && (TOPOLOGIES as readonly string[]).includes(name);
}

/** Validates a deployment config as the reference writes it and fills in the defaults. */
export function parseDeploymentConfig(input: unknown): DeploymentConfig {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw new DeploymentConfigError('', 'must be an object with a topology key');
  const topology = (input as { topology?: unknown }).topology;
  if (topology === undefined) throw new DeploymentConfigError('topology', `is required; one of ${TOPOLOGIES.join(', ')}`);
  if (!isTopologyName(topology)) throw new DeploymentConfigError('topology', `unknown topology ${JSON.stringify(topology)}; expected one of ${TOPOLOGIES.join(', ')}`);
  const schema = SCHEMAS[topology];
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  if (issue.code === 'unrecognized_keys') {
    throw new DeploymentConfigError([...issue.path, issue.keys[0]].join('.'), `is not a ${topology} key`);
  }
  throw new DeploymentConfigError(issue.path.join('.'), issue.message);
}
