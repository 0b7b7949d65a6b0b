import { Command } from 'commander';
import type { ClaimCheck } from '../learning/scenarios/claims.js';
import { EPISODES_KEY, isScenarioName, SCENARIOS, ScenarioConfigError } from '../learning/scenarios/config.js';
import type { RunSummary, ScenarioResult } from '../learning/scenarios/result.js';
import { runScenario } from '../learning/scenarios/run.js';
import type { ScenarioProgress } from '../learning/scenarios/workbench.js';
import { positiveInteger, seed } from './arguments.js';
import { readConfigFile } from './config-file.js';
import { fixed, percent, signedPercent, sparkline, table } from './format.js';

export interface ScenarioCommandOptions {
  readonly write?: (text: string) => void;
  /** Where progress goes; shown only on a TTY and never with `--json`. Default: standard error. */
  readonly progress?: NodeJS.WriteStream;
}

interface Flags {
  readonly seed: number;
  readonly episodes?: number;
  readonly config?: string;
  readonly dataDir?: string;
  readonly json?: boolean;
}

/**
 * `swarmbank scenario <name>`: runs one learning scenario on the simulator
 * and prints its figures beside the reference's claims, or the result object
 * alone with `--json`.
 */
export function scenarioCommand(options: ScenarioCommandOptions = {}): Command {
  const write = options.write ?? ((text: string) => process.stdout.write(text));
  const progress = options.progress ?? process.stderr;
  return new Command('scenario')
    .description('Run one of the five learning scenarios on the seeded market simulator and print what was measured beside what the reference claims.')
    .argument('<name>', SCENARIOS.join(' | '))
    .option('--seed <n>', 'seed of the markets; the same seed gives the same learning curve', seed, 1)
    .option('--episodes <n>', `training length: ${SCENARIOS.map((name) => `${EPISODES_KEY[name]} for ${name}`).join(', ')}`, positiveInteger)
    .option('--config <file.json>', 'the scenario config, as in the reference (unknown keys are refused)')
    .option('--data-dir <dir>', 'keep the agents’ pattern memories under this directory (default: a temporary one, removed)')
    .option('--json', 'print the result object alone, as JSON')
    .addHelpText(
      'after',
      '\nExamples:\n  swarmbank scenario cold-start\n  swarmbank scenario warm-start --seed 7 --episodes 30\n  swarmbank scenario forgetting --config forgetting.json --json',
    )
    .action(async (name: string, flags: Flags) => {
      if (!isScenarioName(name)) throw new ScenarioConfigError(name, '', `unknown scenario; expected one of ${SCENARIOS.join(', ')}`);
      const config = { ...(flags.config === undefined ? {} : readConfigFile(flags.config)), ...(flags.episodes === undefined ? {} : { [EPISODES_KEY[name]]: flags.episodes }) };
      const show = flags.json !== true && progress.isTTY === true;
      const result = await runScenario(name, config, {
        seed: flags.seed,
        ...(flags.dataDir === undefined ? {} : { dataDir: flags.dataDir }),
        ...(show ? { onProgress: (p: ScenarioProgress) => progress.write(`\r${progressLine(p)}\x1b[K`) } : {}),
      });
      if (show) progress.write('\r\x1b[K');
      write(flags.json === true ? `${JSON.stringify(result, null, 2)}\n` : formatScenario(result));
    });
}

function progressLine(p: ScenarioProgress): string {
  return `${p.scenario} ${p.phase} ${p.episode}/${p.of}  accuracy ${percent(p.accuracy)}`;
}

/** The report as printed; every figure is read from `result`. */
export function formatScenario(result: ScenarioResult): string {
  const lines = [
    `${result.scenario} (seed ${result.seed}, ${(result.durationMs / 1000).toFixed(1)} s)`,
    `config ${JSON.stringify(result.config)}`,
    '',
    ...runLines('agent', result),
    ...detailLines(result),
    '',
    'reference claim vs measured',
    ...table(
      ['metric', 'reference', 'measured', 'verdict'],
      result.claims.map((claim) => [claim.metric, claim.claim, measured(claim), claim.verdict]),
    ),
    '',
    `learning curve (accuracy after each ${result.scenario === 'continual' ? 'trading day' : 'episode'}): ${sparkline(result.learningCurve.map((p) => p.accuracy))}`,
    '',
  ];
  return lines.join('\n');
}

function runLines(label: string, run: RunSummary): string[] {
  return [
    `${label}: accuracy ${percent(run.accuracy)} (oracle ${percent(run.oracleAccuracy)}, ${percent(run.accuracyVsOracle)} of it), ` +
      `converged at episode ${run.convergenceEpisode ?? 'never'}, near the oracle (95%) at ${run.nearOracleEpisode ?? 'never'}, ` +
      `${run.patterns} patterns, trained in ${(run.trainingMs / 1000).toFixed(2)} s`,
  ];
}

function detailLines(result: ScenarioResult): string[] {
  switch (result.scenario) {
    case 'cold-start':
      return [];
    case 'warm-start': {
      const d = (result as ScenarioResult<'warm-start'>).details;
      return [
        ...runLines('cold agent', d.baseline),
        `preloaded ${d.preloaded} of the library's ${d.libraryPatterns} patterns; accuracy before training ${percent(d.startAccuracy)}; ` +
          `faster than cold: ${share(d.speedup)} to the target, ${share(d.nearOracleSpeedup)} to near the oracle`,
      ];
    }
    case 'transfer': {
      const d = (result as ScenarioResult<'transfer'>).details;
      return [
        ...runLines('cold agent', d.baseline),
        `transferred ${d.transferred} of the source's ${d.sourcePatterns} patterns (${d.skipped} left out) in ${(d.transferMs / 1000).toFixed(2)} s; ` +
          `accuracy before training ${percent(d.startAccuracy)}; faster than cold: ${share(d.speedup)} to the target, ${share(d.nearOracleSpeedup)} to near the oracle`,
      ];
    }
    case 'continual': {
      const d = (result as ScenarioResult<'continual'>).details;
      return [
        `${d.days} days: return ${signedPercent(d.trading.totalReturn)}, Sharpe ${fixed(d.trading.sharpe)}, max drawdown ${percent(d.trading.maxDrawdown)}, ${d.trading.trades} trades; ` +
          `buy-and-hold ${signedPercent(d.buyAndHold.totalReturn)}`,
        `without learning while trading: accuracy ${percent(d.frozen.accuracy)}, return ${signedPercent(d.frozen.trading.totalReturn)}; ` +
          `first half of the days ${percent(d.earlyAccuracy)}, second half ${percent(d.lateAccuracy)}`,
      ];
    }
    case 'forgetting': {
      const d = (result as ScenarioResult<'forgetting'>).details;
      return [
        ...table(
          ['run', 'A before B', 'A after B', 'B after B', 'retention', 'mean retention during B', 'consolidated', 'distillations', 'patterns'],
          [d.protected, d.unprotected].map((run) => [
            run.consolidation || run.distillation ? 'protected' : 'unprotected',
            percent(run.taskABefore),
            percent(run.taskAAfter),
            percent(run.taskBAfter),
            fixed(run.retention),
            fixed(run.meanRetentionDuringB),
            String(run.consolidated),
            String(run.distillations),
            String(run.patterns),
          ]),
        ),
        `memory reduction from distillation: ${percent(d.memoryReduction)} of patterns, ${percent(d.bytesReduction)} of bytes; retention target ${d.retentionTargetMet ? 'met' : 'missed'}`,
      ];
    }
  }
}

function measured(claim: ClaimCheck): string {
  if (claim.measured === null) return 'never';
  if (claim.unit === 'episodes') return String(claim.measured);
  if (claim.unit === 'seconds') return claim.measured.toFixed(2);
  return percent(claim.measured);
}

function share(value: number | null): string {
  return value === null ? 'n/a (one run never got there)' : `${(value * 100).toFixed(0)}%`;
}
