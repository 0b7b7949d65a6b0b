import { z } from 'zod';
import type { DeploymentMetrics } from '../../topologies/deployment.js';
import type { TopologyComparison } from '../../topologies/compare.js';
import { MAX_SEED, MIN_SEED } from '../../random.js';

/** Bumped whenever a field of the file changes meaning or goes away; new optional fields do not bump it. */
export const METRICS_SCHEMA_VERSION = 1;

const latency = z.object({ count: z.number().int().min(0), p50Ms: z.number().nullable(), p99Ms: z.number().nullable(), maxMs: z.number().nullable() });
const curvePoint = z.object({
  episode: z.number().int().min(0),
  accuracy: z.number().nullable(),
  oracleAccuracy: z.number().nullable(),
  decidedFraction: z.number().min(0).max(1),
  patterns: z.number().min(0),
});

/**
 * `<topology>-metrics.json`, as `swarmbank compare` writes it. NaN (nothing
 * measured) is written as null. `metrics` is the deployment's metrics object
 * as `swarmbank run --json` prints it; the rest is the comparison's own
 * measurement of the reference's table.
 */
export const metricsFileSchema = z.object({
  schemaVersion: z.literal(METRICS_SCHEMA_VERSION),
  topology: z.string(),
  seed: z.number().int().min(MIN_SEED).max(MAX_SEED),
  generatedAt: z.string(),
  reference: z.object({
    agents: z.string(),
    convergence: z.string(),
    syncLatency: z.string(),
    accuracy: z.string(),
    faultTolerance: z.enum(['High', 'Medium', 'Low']),
    scalability: z.string(),
    cost: z.string(),
  }),
  measured: z.object({
    agents: z.number().int().min(1),
    convergenceEpisode: z.number().int().nullable(),
    accuracy: z.number().nullable(),
    oracleAccuracy: z.number().nullable(),
    syncLatency: latency.nullable(),
    faultTolerance: z.object({
      killed: z.string(),
      accuracyAfterKill: z.number().nullable(),
      accuracyWithoutKill: z.number().nullable(),
      kept: z.number().nullable(),
      silentEpisodes: z.number().int().min(0),
      verdict: z.enum(['High', 'Medium', 'Low']),
    }),
    scalability: z.object({ tried: z.array(z.number().int()), msPerEpisode: z.array(z.number()), largestAgents: z.number().int().min(0) }),
    cost: z.object({ messages: z.number().int().min(0), cpuMs: z.number().min(0) }),
    learningCurve: z.array(curvePoint),
  }),
  metrics: z.record(z.string(), z.unknown()),
});

export type MetricsFile = z.infer<typeof metricsFileSchema>;

export function metricsFile(result: TopologyComparison, seed: number, generatedAt: string): MetricsFile {
  const m: DeploymentMetrics = result.metrics;
  return withoutNaN({
    schemaVersion: METRICS_SCHEMA_VERSION,
    topology: result.topology,
    seed,
    generatedAt,
    reference: result.reference,
    measured: {
      agents: m.agents,
      convergenceEpisode: m.convergenceEpisode,
      accuracy: m.accuracy,
      oracleAccuracy: m.oracleAccuracy,
      syncLatency: result.syncLatency,
      faultTolerance: result.faultTolerance,
      scalability: result.scalability,
      cost: result.cost,
      learningCurve: m.learningCurve,
    },
    metrics: m as unknown as Record<string, unknown>,
  }) as MetricsFile;
}

/** The JSON Schema of the file, written beside the files so any tool can check them. */
export function metricsJsonSchema(): unknown {
  return z.toJSONSchema(metricsFileSchema);
}

/** NaN is not JSON: a figure that was never measured is null. */
function withoutNaN(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value, (_key, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v)));
}
