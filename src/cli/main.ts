import { Command, CommanderError } from 'commander';
import { SwarmbankError } from '../errors.js';
import { nonNegativeInteger } from './arguments.js';
import { compareCommand } from './compare.js';
import { runSupervisionDemo } from './demo.js';
import { doctorCommand } from './doctor.js';
import { MEMORY_USAGE_ERRORS, memoryCommand } from './memory.js';
import { nodeCommand } from './node.js';
import { runCommand } from './run.js';
import { scenarioCommand } from './scenario.js';
import { walkForwardCommand } from './walk-forward.js';

/** Errors in what the user gave (a config, a file, an option): exit code 2, as for a bad flag. */
const USAGE_ERRORS = new Set([...MEMORY_USAGE_ERRORS, 'SCENARIO_CONFIG', 'DEPLOYMENT_CONFIG', 'INJECTION_SPEC', 'MARKET_OPTIONS', 'CONFIG_FILE', 'WALK_FORWARD_OPTIONS', 'CSV_HEADER', 'CSV_BAD_ROWS', 'CSV_EMPTY', 'DATASET_UNAVAILABLE', 'NODE_CONFIG_INVALID', 'CLUSTER_SECRET_INVALID', 'TRANSPORT_CERTIFICATE']);

/** Runs the `swarmbank` command; resolves with the process exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  const program = new Command('swarmbank')
    .description('A supervised actor runtime for self-learning agent swarms.')
    .option('--verbose', 'on an error, print its stack trace (and causes) after the one-line message')
    .exitOverride()
    .configureOutput({ writeErr: (text) => process.stderr.write(text) });

  program
    .command('demo')
    .description('Run a supervised worker pool under a seeded fault plan and print what supervision did.')
    .option('--seed <n>', 'seed for backoff jitter and the fault plan', nonNegativeInteger, 1)
    .option('--workers <n>', 'number of supervised workers', nonNegativeInteger, 8)
    .option('--jobs <n>', 'jobs to send', nonNegativeInteger, 20_000)
    .addHelpText('after', '\nExample:\n  swarmbank demo --seed 7 --workers 16')
    .action(async (options: { seed: number; workers: number; jobs: number }) => {
      await runSupervisionDemo({ ...options, write: (line) => process.stdout.write(`${line}\n`) });
    });

  // addCommand does not pass exitOverride and configureOutput on: without them a bad flag would exit the process itself.
  program.addCommand(runCommand().copyInheritedSettings(program));
  program.addCommand(compareCommand().copyInheritedSettings(program));
  program.addCommand(scenarioCommand().copyInheritedSettings(program));
  program.addCommand(walkForwardCommand().copyInheritedSettings(program));
  program.addCommand(nodeCommand().copyInheritedSettings(program));
  // Commands that finish normally but report a failed check (doctor's symptoms, a replay that does not match) set the exit code through this.
  let exitCode = 0;
  const exit = (code: number): void => {
    exitCode = Math.max(exitCode, code);
  };
  program.addCommand(memoryCommand({ exit }).copyInheritedSettings(program));
  program.addCommand(doctorCommand({ exit }).copyInheritedSettings(program));

  try {
    await program.parseAsync([...argv]);
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
    process.stderr.write(`swarmbank: ${error instanceof Error ? error.message : String(error)}\n`);
    // `run` has a --verbose of its own (debug logging), which also asks for stacks.
    if (argv.includes('--verbose') && error instanceof Error) process.stderr.write(`${stackWithCauses(error)}\n`);
    return error instanceof SwarmbankError && USAGE_ERRORS.has(error.code) ? 2 : 1;
  }
}

function stackWithCauses(error: Error): string {
  const cause = error.cause instanceof Error ? `\ncaused by: ${stackWithCauses(error.cause)}` : '';
  return `${error.stack ?? error.message}${cause}`;
}
