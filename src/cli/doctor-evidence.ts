import fs from 'node:fs';
import path from 'node:path';
import { MemoryDirectoryError, openExistingMemory } from './memory-open.js';

/**
 * What `swarmbank doctor --data <dir>` reads, gathered once for every check:
 *
 * - Pattern memories: `<dir>` itself if it is one, and every directory one or
 *   two levels below it that holds an LMDB environment (`data.mdb`): a
 *   deployment's `agents/<id>`, a scenario's `<scenario>-<seed>/<agent>`.
 *   A deployment's actor journal, `<dir>/journal`, is not a pattern memory
 *   and is left alone. Each memory is opened to read its pattern count and
 *   the bytes its file uses (`bytesUsed().file`).
 * - JSON files directly in `<dir>` (`*.json`, not below), each classified by
 *   its shape:
 *   - deployment metrics, as `swarmbank run --json > <dir>/metrics.json`
 *     writes them (or a `*-metrics.json` whose object holds them under
 *     `metrics`): `accuracy`, `oracleAccuracy`, `convergenceEpisode`,
 *     `topologyMetrics.syncLatency` (p99 and max) and every `learningRate`
 *     in `config`;
 *   - scenario results, as `swarmbank scenario <name> --json` writes them:
 *     `accuracy`, every `learningRate` in `config`, and for `forgetting` the
 *     retention of its protected run (`details.protected.retention`);
 *   - configs (any other object with a `learningRate` somewhere, such as a
 *     `--config` file): every `learningRate`.
 *   Anything else is listed as ignored, with the reason.
 */
export interface Evidence {
  readonly dataDir: string | undefined;
  readonly memories: readonly MemoryFacts[];
  /** Memories found that could not be opened, with the reason. */
  readonly unreadableMemories: readonly { readonly dir: string; readonly reason: string }[];
  /** Accuracy, sync latency and retention, one entry per metrics or scenario file. */
  readonly runs: readonly RunFacts[];
  readonly learningRates: readonly LearningRateFact[];
  /** JSON files read, with what each was taken for. */
  readonly files: readonly { readonly file: string; readonly kind: string }[];
  readonly ignored: readonly { readonly file: string; readonly reason: string }[];
}

export interface MemoryFacts {
  /** Relative to the data directory; `.` for the data directory itself. */
  readonly dir: string;
  readonly patterns: number;
  readonly fileBytes: number;
}

export interface RunFacts {
  readonly file: string;
  /** `mesh`, `scenario forgetting`… */
  readonly label: string;
  /** Held-out accuracy; undefined when it was never measured (NaN is written as null). */
  readonly accuracy: number | undefined;
  readonly oracleAccuracy: number | undefined;
  /** Present when the file records convergence: null for never. */
  readonly convergenceEpisode?: number | null;
  readonly syncLatency?: { readonly p99Ms: number; readonly maxMs: number; readonly count: number };
  readonly retention?: { readonly protected: number; readonly unprotected: number | undefined };
}

export interface LearningRateFact {
  readonly file: string;
  /** Where in the file, such as `config.workers.learningRate`. */
  readonly key: string;
  readonly value: number;
}

export async function gatherEvidence(dataDir: string | undefined): Promise<Evidence> {
  if (dataDir === undefined) return { dataDir, memories: [], unreadableMemories: [], runs: [], learningRates: [], files: [], ignored: [] };
  let stat: fs.Stats;
  try {
    stat = fs.statSync(dataDir);
  } catch {
    throw new MemoryDirectoryError(dataDir, 'does not exist');
  }
  if (!stat.isDirectory()) throw new MemoryDirectoryError(dataDir, 'is not a directory');

  const memories: MemoryFacts[] = [];
  const unreadableMemories: { dir: string; reason: string }[] = [];
  for (const dir of memoryDirectories(dataDir)) {
    const relative = path.relative(dataDir, dir) || '.';
    try {
      const memory = await openExistingMemory(dir);
      try {
        memories.push({ dir: relative, patterns: memory.count(), fileBytes: memory.bytesUsed().file });
      } finally {
        await memory.close();
      }
    } catch (error) {
      unreadableMemories.push({ dir: relative, reason: error instanceof Error ? error.message : String(error) });
    }
  }

  const runs: RunFacts[] = [];
  const learningRates: LearningRateFact[] = [];
  const files: { file: string; kind: string }[] = [];
  const ignored: { file: string; reason: string }[] = [];
  for (const file of jsonFiles(dataDir)) {
    let value: unknown;
    try {
      value = JSON.parse(fs.readFileSync(path.join(dataDir, file), 'utf8'));
    } catch (error) {
      ignored.push({ file, reason: `cannot be read as JSON (${error instanceof Error ? error.message : String(error)})` });
      continue;
    }
    const read = readDocument(file, value);
    if (read === undefined) {
      ignored.push({ file, reason: 'is not deployment metrics, a scenario result or a config with a learningRate' });
      continue;
    }
    files.push({ file, kind: read.kind });
    if (read.run !== undefined) runs.push(read.run);
    learningRates.push(...read.learningRates);
  }
  return { dataDir, memories, unreadableMemories, runs, learningRates, files, ignored };
}

/** `dir` and the directories one and two levels below it that hold an LMDB environment, except a deployment's actor journal. */
function memoryDirectories(dir: string): string[] {
  const found: string[] = [];
  const visit = (at: string, depth: number): void => {
    if (fs.existsSync(path.join(at, 'data.mdb'))) {
      found.push(at);
      return;
    }
    if (depth === 2) return;
    for (const entry of fs.readdirSync(at, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      if (!entry.isDirectory() || (depth === 0 && entry.name === 'journal')) continue;
      visit(path.join(at, entry.name), depth + 1);
    }
  };
  visit(dir, 0);
  return found;
}

function jsonFiles(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.json'))
    .map((entry) => entry.name)
    .sort();
}

interface ReadDocument {
  readonly kind: string;
  readonly run?: RunFacts;
  readonly learningRates: readonly LearningRateFact[];
}

function readDocument(file: string, value: unknown): ReadDocument | undefined {
  if (!isRecord(value)) return undefined;
  const deployment = isDeploymentMetrics(value) ? value : isRecord(value['metrics']) && isDeploymentMetrics(value['metrics']) ? value['metrics'] : undefined;
  if (deployment !== undefined) {
    const prefix = deployment === value ? 'config' : 'metrics.config';
    return {
      kind: `deployment metrics of ${String(deployment['topology'])}`,
      run: { file, label: String(deployment['topology']), ...accuracyOf(deployment), ...syncLatencyOf(deployment) },
      learningRates: learningRatesIn(file, deployment['config'], prefix),
    };
  }
  if (typeof value['scenario'] === 'string' && 'accuracy' in value) {
    return {
      kind: `scenario result of ${value['scenario']}`,
      run: { file, label: `scenario ${value['scenario']}`, ...accuracyOf(value), ...retentionOf(value) },
      learningRates: learningRatesIn(file, value['config'], 'config'),
    };
  }
  const learningRates = learningRatesIn(file, value, '');
  return learningRates.length === 0 ? undefined : { kind: 'config', learningRates };
}

function isDeploymentMetrics(value: Record<string, unknown>): boolean {
  return typeof value['topology'] === 'string' && 'accuracy' in value && Array.isArray(value['learningCurve']);
}

function accuracyOf(value: Record<string, unknown>): Pick<RunFacts, 'accuracy' | 'oracleAccuracy' | 'convergenceEpisode'> {
  const convergence = value['convergenceEpisode'];
  return {
    accuracy: finite(value['accuracy']),
    oracleAccuracy: finite(value['oracleAccuracy']),
    ...(convergence === null || typeof convergence === 'number' ? { convergenceEpisode: convergence } : {}),
  };
}

function syncLatencyOf(metrics: Record<string, unknown>): Pick<RunFacts, 'syncLatency'> {
  const topology = metrics['topologyMetrics'];
  const latency = isRecord(topology) ? topology['syncLatency'] : undefined;
  if (!isRecord(latency)) return {};
  const count = finite(latency['count']);
  const p99Ms = finite(latency['p99Ms']);
  const maxMs = finite(latency['maxMs']);
  return count === undefined || count === 0 || p99Ms === undefined ? {} : { syncLatency: { count, p99Ms, maxMs: maxMs ?? p99Ms } };
}

function retentionOf(result: Record<string, unknown>): Pick<RunFacts, 'retention'> {
  const details = result['details'];
  if (result['scenario'] !== 'forgetting' || !isRecord(details) || !isRecord(details['protected'])) return {};
  const value = finite(details['protected']['retention']);
  const unprotected = isRecord(details['unprotected']) ? finite(details['unprotected']['retention']) : undefined;
  return value === undefined ? {} : { retention: { protected: value, unprotected } };
}

/** Every numeric `learningRate` in `value`, at any depth, with its path. */
function learningRatesIn(file: string, value: unknown, prefix: string): LearningRateFact[] {
  if (Array.isArray(value)) return value.flatMap((item, i) => learningRatesIn(file, item, `${prefix}[${i}]`));
  if (!isRecord(value)) return [];
  return Object.entries(value).flatMap(([key, item]) => {
    const at = prefix === '' ? key : `${prefix}.${key}`;
    if (key === 'learningRate' && typeof item === 'number') return [{ file, key: at, value: item }];
    return learningRatesIn(file, item, at);
  });
}

function finite(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
