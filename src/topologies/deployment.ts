import type { FaultPlan, FaultPlanRun } from '../actors/faults.js';
import type { Runtime } from '../actors/runtime.js';
import type { SupervisionPolicy } from '../actors/supervision.js';
import type { LearnerChoice } from './swarm.js';
import type { CurvePoint } from '../learning/scenarios/curve.js';
import type { TopologyConfigs, TopologyName } from './config.js';
import type { DeploymentEvents } from './events.js';
import type { MarketSpec } from './market-feed.js';

export interface RunOptions {
  /** Training episodes to run now; a later `run` carries on from where this one ended. */
  readonly episodes: number;
}

/** What every deployment reports about one agent. */
export interface AgentReport {
  readonly id: string;
  /** Held-out accuracy at the last evaluation; NaN if it was not live then. */
  readonly accuracy: number;
  readonly patterns: number;
  readonly episodesTrained: number;
  readonly restarts: number;
  readonly live: boolean;
}

/** The figures every topology reports; each adds its own under `topologyMetrics`. */
export interface DeploymentMetrics<T extends TopologyName = TopologyName> {
  readonly topology: T;
  readonly seed: number;
  readonly config: TopologyConfigs[T];
  /** Episodes run so far. */
  readonly episodes: number;
  /** Agents at the end (auto-scale changes it; leaders and standbys are not counted). */
  readonly agents: number;
  /** The deployment's held-out accuracy at the last evaluation, as its topology decides (vote, leader, router…). */
  readonly accuracy: number;
  readonly oracleAccuracy: number;
  /** DESIGN.md's convergence (rolling mean of 5 evaluations ≥ 0.7); null if not reached. */
  readonly convergenceEpisode: number | null;
  readonly learningCurve: readonly CurvePoint[];
  readonly perAgent: readonly AgentReport[];
  /** Requests to agents and bytes of patterns moved between them. */
  readonly messages: number;
  readonly bytesExchanged: number;
  readonly crashes: number;
  readonly restarts: number;
  readonly wallMs: number;
  readonly topologyMetrics: TopologyMetrics[T];
}

export interface LatencySummary {
  readonly count: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

export interface TopologyMetrics {
  readonly mesh: {
    readonly consensusThreshold: number;
    readonly syncProtocol: string;
    /** Commit at the origin → present at every live peer. */
    readonly syncLatency: LatencySummary;
    readonly syncLatenciesMs: readonly number[];
    readonly patternsReplicated: number;
    readonly patternsRefused: number;
    /** Held-out steps at the last evaluation where the mesh decided, and where it abstained for want of consensus. */
    readonly votesDecided: number;
    readonly abstentions: number;
    readonly abstentionRate: number;
  };
  readonly hierarchical: import('./hierarchical.js').HierarchicalMetrics;
  readonly ring: import('./ring.js').RingMetrics;
  readonly 'auto-scale': import('./auto-scale.js').AutoScaleMetrics;
  readonly 'multi-strategy': import('./multi-strategy.js').MultiStrategyMetrics;
  readonly 'blue-green': import('./blue-green.js').BlueGreenMetrics;
}

/**
 * A running topology. Every topology returns this same shape, so a service
 * can switch topologies by config alone.
 */
export interface Deployment<T extends TopologyName = TopologyName> {
  readonly topology: T;
  readonly config: TopologyConfigs[T];
  readonly seed: number;
  readonly events: DeploymentEvents;
  /** The runtime the deployment's actors live in: to watch its events or inject faults by path. */
  readonly runtime: Runtime;
  run(options: RunOptions): Promise<DeploymentMetrics<T>>;
  metrics(): Promise<DeploymentMetrics<T>>;
  /** Runs a fault plan against the deployment's actors (paths under `/<topology>/`). */
  inject(plan: FaultPlan): FaultPlanRun;
  /** Stops every actor, closes every memory, and removes the data directory if the deployment made it. */
  stop(): Promise<void>;
}

export interface DeployOptions {
  /** Default 1. */
  readonly seed?: number;
  readonly market?: MarketSpec;
  /** Where agent memories and journals go, kept after stop. Default: a temporary directory, removed by stop. */
  readonly dataDir?: string;
  /** How long a request to an agent may take before it counts as missing. Default 30 s. */
  readonly askTimeoutMs?: number;
  /** Most episodes the deployment will run in all; sizes the market. Default 200. */
  readonly maxEpisodes?: number;
  /** How the topology's actor supervises its agents. Default: the runtime's (restart with backoff, 10 a minute). */
  readonly agentSupervision?: SupervisionPolicy;
  /**
   * Plugs a learner of your own into every agent (it must implement `Learner`
   * over the agent's memory, of the default feature space). Default: the
   * pattern learner at the config's learning rate.
   */
  readonly learner?: LearnerChoice;
}
