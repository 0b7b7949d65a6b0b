import { Gauge, Histogram, Registry } from 'prom-client';
import { exposeRuntimeMetrics, type PrometheusOptions } from '../actors/prometheus.js';
import type { Deployment, DeploymentMetrics } from './deployment.js';

/** Sync latency buckets, in seconds: from a loopback round trip to the reference's 120 s alarm. */
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

/**
 * The deployment's runtime metrics (see `exposeRuntimeMetrics`) and its
 * learning: held-out accuracy and the oracle's, agents, patterns per agent,
 * episodes, crashes, and — for a mesh — the histogram of sync latencies.
 * Read at scrape time; one scrape asks each agent for its metrics once.
 */
export function exposeDeploymentMetrics(deployment: Deployment, options: PrometheusOptions = {}): Registry {
  const registry = exposeRuntimeMetrics(deployment.runtime, options);
  const prefix = options.prefix ?? 'swarmbank_';
  const labels = { topology: deployment.topology };
  let scrape: { at: number; metrics: Promise<DeploymentMetrics> } | undefined;
  // Every series of one scrape reads the same snapshot.
  const latest = (): Promise<DeploymentMetrics> => {
    const now = Date.now();
    if (scrape === undefined || now - scrape.at > 250) scrape = { at: now, metrics: deployment.metrics() };
    return scrape.metrics;
  };
  const gauge = (name: string, help: string, read: (m: DeploymentMetrics) => number) =>
    new Gauge({
      name: `${prefix}${name}`,
      help,
      labelNames: ['topology'],
      registers: [registry],
      async collect() {
        this.set(labels, read(await latest()));
      },
    });
  gauge('accuracy', 'Held-out accuracy at the last evaluation.', (m) => m.accuracy);
  gauge('oracle_accuracy', "The oracle's accuracy on the same held-out steps.", (m) => m.oracleAccuracy);
  gauge('agents', 'Agents in the deployment.', (m) => m.agents);
  gauge('episodes', 'Training episodes run.', (m) => m.episodes);
  gauge('deployment_crashes', 'Agent crashes seen by the deployment.', (m) => m.crashes);
  new Gauge({
    name: `${prefix}agent_patterns`,
    help: 'Patterns in each live agent’s memory.',
    labelNames: ['topology', 'agent'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const agent of (await latest()).perAgent) if (Number.isFinite(agent.patterns)) this.set({ ...labels, agent: agent.id }, agent.patterns);
    },
  });
  let observed = 0;
  new Histogram({
    name: `${prefix}sync_latency_seconds`,
    help: 'Commit at the origin to present at every live peer.',
    labelNames: ['topology'],
    buckets: LATENCY_BUCKETS,
    registers: [registry],
    async collect() {
      const m = await latest();
      if (m.topology !== 'mesh') return;
      const latencies = (m as DeploymentMetrics<'mesh'>).topologyMetrics.syncLatenciesMs;
      for (; observed < latencies.length; observed++) this.observe(labels, latencies[observed]! / 1_000);
    },
  });
  return registry;
}
