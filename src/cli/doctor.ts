import { Command } from 'commander';
import { nonNegativeNumber } from './arguments.js';
import { canImportHttp3Transport, CHECKS, THRESHOLDS, type Finding } from './doctor-checks.js';
import { gatherEvidence, type Evidence } from './doctor-evidence.js';

export interface DoctorCommandOptions {
  /** Where the report goes. Default: standard output. */
  readonly write?: (text: string) => void;
  /** Called with 1 when any symptom is found. Default: sets `process.exitCode`. */
  readonly exit?: (code: number) => void;
  /** Whether the HTTP/3 transport can be imported. Default: tries to import it. */
  readonly probeHttp3?: () => Promise<boolean>;
}

interface Flags {
  readonly data?: string;
  readonly maxMemoryMb: number;
  readonly json?: boolean;
}

export interface DoctorReport {
  readonly dataDir: string | null;
  readonly symptoms: number;
  readonly findings: readonly Finding[];
  readonly read: Pick<Evidence, 'memories' | 'unreadableMemories' | 'files' | 'ignored'>;
}

/**
 * `swarmbank doctor [--data dir]`: checks the environment and, with
 * `--data`, a pattern memory or a deployment's data directory against the
 * health thresholds (see doctor-checks.ts; what is read is described in
 * doctor-evidence.ts), and prints each symptom with its remedies, then
 * what was fine and what could not be checked. Exit code 1 when any
 * symptom is found.
 */
export function doctorCommand(options: DoctorCommandOptions = {}): Command {
  const write = options.write ?? ((text: string) => process.stdout.write(text));
  const exit =
    options.exit ??
    ((code: number) => {
      process.exitCode = code;
    });
  const probeHttp3 = options.probeHttp3 ?? canImportHttp3Transport;
  return new Command('doctor')
    .description('Check the environment and a data directory against the troubleshooting table, and print each symptom found with its remedies.')
    .option('--data <dir>', 'a pattern memory, or a deployment or scenario data directory (agents/<id> memories, plus *.json metrics, scenario results and configs)')
    .option('--max-memory-mb <mb>', 'the memory threshold: pattern memories above this many MB (2^20 bytes) in all are a symptom', nonNegativeNumber, THRESHOLDS.memoryMb)
    .option('--json', 'print the report as one JSON object')
    .addHelpText(
      'after',
      `
Checks: Node.js ≥ ${THRESHOLDS.nodeMajor}; the HTTP/3 transport can be imported; accuracy ≥ ${THRESHOLDS.accuracy};
pattern memories ≤ --max-memory-mb; sync latency p99 ≤ ${THRESHOLDS.syncLatencyMs / 1000} s; retention ≥ ${THRESHOLDS.retention};
learning rate ≤ ${THRESHOLDS.learningRate}.
With --data, doctor reads the pattern memories in the directory (itself, agents/<id>, <scenario>-<seed>/<id>)
and the *.json files directly in it: deployment metrics (swarmbank run --json), scenario results
(swarmbank scenario --json) and configs with a learningRate.
Exit code 1 when any symptom is found, 0 otherwise.

Examples:
  swarmbank doctor
  swarmbank run mesh --data-dir runs/mesh --json > runs/mesh/metrics.json && swarmbank doctor --data runs/mesh
  swarmbank doctor --data runs/mesh/agents/agent-1 --max-memory-mb 100`,
    )
    .action(async (flags: Flags) => {
      const evidence = await gatherEvidence(flags.data);
      const context = { evidence, maxMemoryMb: flags.maxMemoryMb, probeHttp3 };
      const findings: Finding[] = [];
      for (const check of CHECKS) findings.push(await check(context));
      const report: DoctorReport = {
        dataDir: flags.data ?? null,
        symptoms: findings.filter((f) => f.verdict === 'symptom').length,
        findings,
        read: { memories: evidence.memories, unreadableMemories: evidence.unreadableMemories, files: evidence.files, ignored: evidence.ignored },
      };
      write(flags.json === true ? `${JSON.stringify(report, null, 2)}\n` : formatDoctor(report));
      if (report.symptoms > 0) exit(1);
    });
}

/** The report as printed: what was read, then symptoms with their remedies, then what was fine, then what could not be checked. */
export function formatDoctor(report: DoctorReport): string {
  const { read } = report;
  const lines = [`swarmbank doctor: the environment${report.dataDir === null ? '' : ` and ${report.dataDir}`}`];
  if (report.dataDir !== null) {
    lines.push(
      `read ${read.memories.length} pattern ${read.memories.length === 1 ? 'memory' : 'memories'}${read.memories.length === 0 ? '' : ` (${read.memories.map((m) => m.dir).join(', ')})`}` +
        ` and ${read.files.length} JSON ${read.files.length === 1 ? 'file' : 'files'}${read.files.length === 0 ? '' : ` (${read.files.map((f) => `${f.file}: ${f.kind}`).join('; ')})`}`,
      ...read.unreadableMemories.map((m) => `could not open memory ${m.dir}: ${m.reason}`),
      ...read.ignored.map((f) => `ignored ${f.file}: ${f.reason}`),
    );
  }
  lines.push('');
  const order = ['symptom', 'ok', 'not-checked'] as const;
  const label = { symptom: 'SYMPTOM', ok: 'ok', 'not-checked': 'not checked' } as const;
  for (const verdict of order) {
    for (const f of report.findings.filter((x) => x.verdict === verdict)) {
      lines.push(`${label[verdict]}  ${f.check}: ${f.detail}`);
      for (const remedy of f.remedies) lines.push(`    remedy: ${remedy}`);
    }
  }
  lines.push('', report.symptoms === 0 ? 'no symptoms found' : `${report.symptoms} ${report.symptoms === 1 ? 'symptom' : 'symptoms'} found`, '');
  return lines.join('\n');
}
