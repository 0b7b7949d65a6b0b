import { withAgentCount } from './agent-count.js';
import { parseDeploymentConfig, TOPOLOGIES, type DeploymentConfig, type TopologyName } from './config.js';
import { deploy } from './deploy.js';
import type { DeploymentMetrics, DeployOptions, LatencySummary } from './deployment.js';

/** The reference's benchmark row for a topology, as it states it (claims never measured). */
export interface ReferenceRow {
  readonly agents: string;
  readonly convergence: string;
  readonly syncLatency: string;
  readonly accuracy: string;
  readonly faultTolerance: 'High' | 'Medium' | 'Low';
  readonly scalability: string;
  readonly cost: string;
}

export const REFERENCE_BENCHMARKS: { readonly [T in TopologyName]: ReferenceRow } = {
  mesh: { agents: '5', convergence: '20 eps', syncLatency: '<60s', accuracy: '85%', faultTolerance: 'High', scalability: '10-20', cost: 'Medium' },
  hierarchical: { agents: '4+1 leader', convergence: '30 eps', syncLatency: '<120s', accuracy: '87%', faultTolerance: 'Low', scalability: '50+', cost: 'High' },
  ring: { agents: '4', convergence: '40 eps', syncLatency: '<180s', accuracy: '82%', faultTolerance: 'Medium', scalability: '5-10', cost: 'Low' },
  'auto-scale': { agents: '2-10', convergence: 'Variable', syncLatency: 'N/A', accuracy: '80-90%', faultTolerance: 'Medium', scalability: '2-10', cost: 'Low-High' },
  'multi-strategy': { agents: '3', convergence: '20 eps', syncLatency: 'N/A', accuracy: '88%', faultTolerance: 'Medium', scalability: '3-5', cost: 'Medium' },
  'blue-green': { agents: '2+2', convergence: '40 eps', syncLatency: '<120s', accuracy: '85%', faultTolerance: 'High', scalability: '2-4', cost: 'High' },
};

/**
 * The actor whose loss the topology is most exposed to, killed in the fault
 * run: a mesh peer, the hierarchy's leader, a ring stage, …
 */
export const CRITICAL_ACTOR: { readonly [T in TopologyName]: string } = {
  mesh: '/mesh/agent-1',
  hierarchical: '/hierarchical/leader',
  ring: '/ring/agent-2',
  'auto-scale': '/auto-scale/agent-1',
  'multi-strategy': '/multi-strategy/momentum',
  'blue-green': '/blue-green/blue-1',
};

export interface FaultToleranceResult {
  readonly killed: string;
  /** Mean held-out accuracy after the kill, in the fault run and in the same run without the kill. */
  readonly accuracyAfterKill: number;
  readonly accuracyWithoutKill: number;
  /** accuracyAfterKill ÷ accuracyWithoutKill; an episode with no decision counts as 0 accuracy. */
  readonly kept: number;
  /** Episodes after the kill in which the deployment decided nothing. */
  readonly silentEpisodes: number;
  /** High: kept ≥ 0.97 and never silent; Medium: kept ≥ 0.85; Low: below, or silent for more than one episode. */
  readonly verdict: 'High' | 'Medium' | 'Low';
}

export interface ScalabilityResult {
  /** Agent counts tried, each for `scaleEpisodes` episodes, and the time per episode each took. */
  readonly tried: readonly number[];
  readonly msPerEpisode: readonly number[];
  /** The largest count that ran within the time budget per episode. */
  readonly largestAgents: number;
}

export interface TopologyComparison {
  readonly topology: TopologyName;
  readonly reference: ReferenceRow;
  readonly metrics: DeploymentMetrics;
  readonly syncLatency: LatencySummary | null;
  readonly faultTolerance: FaultToleranceResult;
  readonly scalability: ScalabilityResult;
  /** Requests to agents, and CPU time of the whole process, during the main run. */
  readonly cost: { readonly messages: number; readonly cpuMs: number };
}

export interface CompareOptions {
  readonly seed?: number;
  /** Episodes of the main run and of the fault run. Default 30 (quick: 12). */
  readonly episodes?: number;
  /** Fewer episodes, a smaller held-out set and smaller scale trials. */
  readonly quick?: boolean;
  readonly topologies?: readonly TopologyName[];
  readonly onProgress?: (topology: TopologyName, stage: 'main' | 'fault' | 'scale') => void;
}

export interface ComparisonReport {
  readonly seed: number;
  readonly episodes: number;
  readonly results: readonly TopologyComparison[];
}

/** A scale trial slower than this per episode counts as not running at that size. */
const SCALE_BUDGET_MS = 15_000;

/**
 * Runs every topology on the same seeded market and measures what the
 * reference's benchmark table claims: agents, convergence, sync latency,
 * accuracy, fault tolerance (a run with the critical actor killed halfway,
 * against the same run without the kill), scalability (the largest agent
 * count that ran within a time budget) and cost (messages and CPU time).
 */
export async function compare(options: CompareOptions = {}): Promise<ComparisonReport> {
  const seed = options.seed ?? 1;
  const quick = options.quick === true;
  const episodes = options.episodes ?? (quick ? 12 : 30);
  const market = { evalEpisodes: quick ? 4 : 8 };
  const scaleSizes = quick ? [5, 10] : [5, 20, 50];
  const results: TopologyComparison[] = [];
  for (const topology of options.topologies ?? TOPOLOGIES) {
    const config = parseDeploymentConfig({ topology });
    const deployOptions: DeployOptions = { seed, market, maxEpisodes: episodes };

    options.onProgress?.(topology, 'main');
    const cpu = process.cpuUsage();
    const metrics = await runOnce(config, deployOptions, episodes);
    const used = process.cpuUsage(cpu);

    options.onProgress?.(topology, 'fault');
    const killAt = Math.floor(episodes / 2);
    const faulted = await runOnce(config, { ...deployOptions, agentSupervision: { directive: 'stop' } }, episodes, { path: CRITICAL_ACTOR[topology], afterEpisode: killAt });

    options.onProgress?.(topology, 'scale');
    const scalability = await scale(config, seed, scaleSizes);

    results.push({
      topology,
      reference: REFERENCE_BENCHMARKS[topology],
      metrics,
      syncLatency: syncLatencyOf(metrics),
      faultTolerance: faultTolerance(CRITICAL_ACTOR[topology], metrics, faulted, killAt),
      scalability,
      cost: { messages: metrics.messages, cpuMs: (used.user + used.system) / 1_000 },
    });
  }
  return { seed, episodes, results };
}

async function runOnce(
  config: DeploymentConfig,
  options: DeployOptions,
  episodes: number,
  kill?: { readonly path: string; readonly afterEpisode: number },
): Promise<DeploymentMetrics> {
  const deployment = deploy(config, options);
  try {
    if (kill === undefined) return await deployment.run({ episodes });
    await deployment.run({ episodes: kill.afterEpisode });
    const target = deployment.runtime.lookup(kill.path);
    if (target === undefined || !deployment.runtime.faults.kill(target)) throw new Error(`compare: no live actor at ${kill.path} to kill`);
    return await deployment.run({ episodes: episodes - kill.afterEpisode });
  } finally {
    await deployment.stop();
  }
}

function faultTolerance(killed: string, clean: DeploymentMetrics, faulted: DeploymentMetrics, killAt: number): FaultToleranceResult {
  const after = (m: DeploymentMetrics) => m.learningCurve.slice(killAt).map((p) => (Number.isFinite(p.accuracy) ? p.accuracy : 0));
  const mean = (values: readonly number[]) => (values.length === 0 ? Number.NaN : values.reduce((a, b) => a + b, 0) / values.length);
  const accuracyAfterKill = mean(after(faulted));
  const accuracyWithoutKill = mean(after(clean));
  const kept = accuracyAfterKill / accuracyWithoutKill;
  const silentEpisodes = faulted.learningCurve.slice(killAt).filter((p) => !Number.isFinite(p.accuracy)).length;
  const verdict = kept >= 0.97 && silentEpisodes === 0 ? 'High' : kept >= 0.85 && silentEpisodes <= 1 ? 'Medium' : 'Low';
  return { killed, accuracyAfterKill, accuracyWithoutKill, kept, silentEpisodes, verdict };
}

async function scale(config: DeploymentConfig, seed: number, sizes: readonly number[]): Promise<ScalabilityResult> {
  const tried: number[] = [];
  const msPerEpisode: number[] = [];
  let largestAgents = 0;
  const episodes = 2;
  for (const n of config.topology === 'multi-strategy' ? [config.strategies.length] : sizes) {
    const sized = config.topology === 'multi-strategy' ? config : withAgentCount(config, n);
    const started = performance.now();
    const metrics = await runOnce(sized, { seed, market: { evalEpisodes: 2 }, maxEpisodes: episodes }, episodes);
    const ms = (performance.now() - started) / episodes;
    tried.push(metrics.agents);
    msPerEpisode.push(ms);
    if (ms > SCALE_BUDGET_MS) break;
    largestAgents = metrics.agents;
  }
  return { tried, msPerEpisode, largestAgents };
}

/**
 * The topology's own sync figure: replication in a mesh, aggregation at the
 * leader in a hierarchy; none where knowledge does not travel between agents
 * by a sync of its own.
 */
function syncLatencyOf(metrics: DeploymentMetrics): LatencySummary | null {
  switch (metrics.topology) {
    case 'mesh':
      return (metrics as DeploymentMetrics<'mesh'>).topologyMetrics.syncLatency;
    case 'hierarchical':
      return (metrics as DeploymentMetrics<'hierarchical'>).topologyMetrics.aggregationLatency;
    default:
      return null;
  }
}
