import type { Evidence, RunFacts } from './doctor-evidence.js';
import { percent } from './format.js';
import { byteSize } from './memory-inspect.js';

/**
 * The checks `swarmbank doctor` runs, one small function each, against the
 * health thresholds of DESIGN.md and the troubleshooting table of the
 * reference (symptom → remedies, quoted from it).
 */

export type Verdict = 'symptom' | 'ok' | 'not-checked';

export interface Finding {
  readonly check: string;
  readonly verdict: Verdict;
  /** What was read and what it showed. */
  readonly detail: string;
  /** What to do about it; empty unless `verdict` is `symptom`. */
  readonly remedies: readonly string[];
}

export interface DoctorContext {
  readonly evidence: Evidence;
  /** The memory threshold, in MiB. */
  readonly maxMemoryMb: number;
  /** Whether the HTTP/3 (QUIC) WebTransport transport can be imported. */
  readonly probeHttp3: () => Promise<boolean>;
}

export type Check = (context: DoctorContext) => Finding | Promise<Finding>;

export const THRESHOLDS = {
  accuracy: 0.7,
  memoryMb: 500,
  syncLatencyMs: 120_000,
  retention: 0.5,
  learningRate: 0.05,
  nodeMajor: 20,
} as const;

export const HTTP3_TRANSPORT = '@fails-components/webtransport-transport-http3-quiche';

const REMEDIES = {
  accuracy: [
    'Increase learning rate (0.01 → 0.02)',
    'Pre-load common patterns (warm start): swarmbank scenario warm-start',
    'Use transfer learning from experienced agent: swarmbank memory export, then memory import',
    'Check pattern quality metrics: swarmbank memory inspect',
  ],
  memory: [
    'Enable quantization (4-8x reduction)',
    'Increase distillation frequency: swarmbank memory distill',
    'Reduce pattern retention threshold',
    'Implement memory consolidation',
  ],
  sync: ["Enable QUIC protocol for mesh (syncProtocol: 'quic', with the HTTP/3 transport installed)", 'Reduce pattern batch size', 'Implement incremental sync', 'Check network bandwidth'],
  retention: [
    'Enable memory consolidation (memoryConsolidation: true)',
    'Reduce learning rate',
    'Increase distillation frequency (distillationInterval)',
    'Use experience replay',
  ],
  learningRate: ['Do not set the learning rate above 0.05: use 0.02 for cold start, 0.005 for continual learning'],
  http3: [
    `npm install @fails-components/webtransport ${HTTP3_TRANSPORT}: "Enable QUIC for mesh topology"; without it WebTransport sync falls back to HTTP/2`,
  ],
  node: [`Install Node.js ${THRESHOLDS.nodeMajor} or later`],
} as const;

function finding(check: string, verdict: Verdict, detail: string, remedies: readonly string[] = []): Finding {
  return { check, verdict, detail, remedies: verdict === 'symptom' ? remedies : [] };
}

const noData = (what: string, writer: string) => (context: DoctorContext) =>
  context.evidence.dataDir === undefined ? `no --data directory to read ${what} from` : `no ${what} in ${context.evidence.dataDir} (${writer})`;

export const checkNodeVersion: Check = () => {
  const major = Number(process.versions.node.split('.')[0]);
  return major >= THRESHOLDS.nodeMajor
    ? finding('Node.js', 'ok', `v${process.versions.node} (≥ ${THRESHOLDS.nodeMajor})`)
    : finding('Node.js', 'symptom', `v${process.versions.node} is older than ${THRESHOLDS.nodeMajor}`, REMEDIES.node);
};

export const checkHttp3Transport: Check = async (context) =>
  (await context.probeHttp3())
    ? finding('HTTP/3 transport', 'ok', `${HTTP3_TRANSPORT} imports: sync can run over QUIC/HTTP-3`)
    : finding('HTTP/3 transport', 'symptom', `HTTP/3 transport absent: ${HTTP3_TRANSPORT} cannot be imported`, REMEDIES.http3);

export const checkAccuracy: Check = (context) => {
  const measured = context.evidence.runs.filter((run) => run.accuracy !== undefined);
  if (measured.length === 0) return finding('Accuracy', 'not-checked', noData('measured accuracy', 'swarmbank run --json > metrics.json, or swarmbank scenario --json')(context));
  const low = measured.filter((run) => run.accuracy! < THRESHOLDS.accuracy);
  const describe = (run: RunFacts) =>
    `${run.file} (${run.label}) ${percent(run.accuracy!)}` +
    (run.oracleAccuracy === undefined ? '' : ` (oracle ${percent(run.oracleAccuracy)})`) +
    (run.convergenceEpisode === undefined ? '' : `, converged ${run.convergenceEpisode === null ? 'never' : `at episode ${run.convergenceEpisode}`}`);
  return low.length === 0
    ? finding('Accuracy', 'ok', `at least ${percent(THRESHOLDS.accuracy)} in ${measured.map(describe).join('; ')}`)
    : finding('Accuracy', 'symptom', `accuracy stuck below ${percent(THRESHOLDS.accuracy)}: ${low.map(describe).join('; ')}`, REMEDIES.accuracy);
};

export const checkMemorySize: Check = (context) => {
  const { memories } = context.evidence;
  if (memories.length === 0) return finding('Memory size', 'not-checked', noData('pattern memory', 'a memory directory, or a deployment’s agents/<id>')(context));
  const total = memories.reduce((sum, m) => sum + m.fileBytes, 0);
  const largest = memories.reduce((a, b) => (b.fileBytes > a.fileBytes ? b : a));
  const limit = context.maxMemoryMb * 1024 * 1024;
  const detail =
    `${memories.length} pattern ${memories.length === 1 ? 'memory' : 'memories'}, ${memories.reduce((sum, m) => sum + m.patterns, 0)} patterns, ` +
    `${byteSize(total)} in all` +
    (memories.length === 1 ? '' : ` (largest ${largest.dir}: ${byteSize(largest.fileBytes)})`);
  return total > limit
    ? finding('Memory size', 'symptom', `high memory usage: ${detail}, above ${context.maxMemoryMb} MB`, REMEDIES.memory)
    : finding('Memory size', 'ok', `${detail}, within ${context.maxMemoryMb} MB`);
};

export const checkSyncLatency: Check = (context) => {
  const measured = context.evidence.runs.filter((run) => run.syncLatency !== undefined);
  if (measured.length === 0) return finding('Sync latency', 'not-checked', noData('sync latency', 'a mesh deployment’s metrics: swarmbank run mesh --json > metrics.json')(context));
  const slow = measured.filter((run) => run.syncLatency!.p99Ms > THRESHOLDS.syncLatencyMs);
  const describe = (run: RunFacts) => `${run.file} (${run.label}) p99 ${seconds(run.syncLatency!.p99Ms)}, max ${seconds(run.syncLatency!.maxMs)} over ${run.syncLatency!.count} syncs`;
  return slow.length === 0
    ? finding('Sync latency', 'ok', `p99 within ${seconds(THRESHOLDS.syncLatencyMs)}: ${measured.map(describe).join('; ')}`)
    : finding('Sync latency', 'symptom', `sync latency above ${seconds(THRESHOLDS.syncLatencyMs)}: ${slow.map(describe).join('; ')}`, REMEDIES.sync);
};

export const checkRetention: Check = (context) => {
  const measured = context.evidence.runs.filter((run) => run.retention !== undefined);
  if (measured.length === 0) return finding('Retention', 'not-checked', noData('forgetting scenario result', 'swarmbank scenario forgetting --json > forgetting.json')(context));
  const low = measured.filter((run) => run.retention!.protected < THRESHOLDS.retention);
  const describe = (run: RunFacts) =>
    `${run.file} retention ${run.retention!.protected.toFixed(2)}` + (run.retention!.unprotected === undefined ? '' : ` (${run.retention!.unprotected.toFixed(2)} unprotected)`);
  return low.length === 0
    ? finding('Retention', 'ok', `at least ${THRESHOLDS.retention}: ${measured.map(describe).join('; ')}`)
    : finding('Retention', 'symptom', `catastrophic forgetting, retention below ${THRESHOLDS.retention}: ${low.map(describe).join('; ')}`, REMEDIES.retention);
};

export const checkLearningRate: Check = (context) => {
  const rates = context.evidence.learningRates;
  if (rates.length === 0) return finding('Learning rate', 'not-checked', noData('learningRate', 'metrics, scenario results or config files')(context));
  const high = rates.filter((rate) => rate.value > THRESHOLDS.learningRate);
  const describe = (rate: (typeof rates)[number]) => `${rate.file} ${rate.key} ${rate.value}`;
  return high.length === 0
    ? finding('Learning rate', 'ok', `at most ${THRESHOLDS.learningRate} in ${rates.length} ${rates.length === 1 ? 'setting' : 'settings'} (highest ${Math.max(...rates.map((r) => r.value))})`)
    : finding('Learning rate', 'symptom', `learning rate above ${THRESHOLDS.learningRate}: ${high.map(describe).join('; ')}`, REMEDIES.learningRate);
};

/** In the order they are printed. */
export const CHECKS: readonly Check[] = [checkNodeVersion, checkHttp3Transport, checkAccuracy, checkMemorySize, checkSyncLatency, checkRetention, checkLearningRate];

/** Whether the HTTP/3 transport can be imported; a missing or broken native module is absence, never a crash. */
export async function canImportHttp3Transport(): Promise<boolean> {
  // A variable specifier: the package is optional, so the compiler must not resolve it.
  const specifier: string = HTTP3_TRANSPORT;
  try {
    await import(specifier);
    return true;
  } catch {
    return false;
  }
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 0)} s`;
}
