import fs from 'node:fs';
import { Command, InvalidArgumentError } from 'commander';
import { SwarmbankError } from '../errors.js';
import { BundleError, decodeBundle, exportBundle, importBundle, type BundleSelection } from '../memory/bundle.js';
import { distill, planDistillation, type DistillOptions } from '../memory/distill.js';
import { nonNegativeInteger } from './arguments.js';
import { percent } from './format.js';
import { withMemory } from './memory-open.js';
import { byteSize, formatInspection, inspectMemory } from './memory-inspect.js';
import { formatReplay, replayInto } from './memory-replay.js';

export interface MemoryCommandOptions {
  /** Where reports go. Default: standard output. */
  readonly write?: (text: string) => void;
  /**
   * Called with 1 when a command found what it checks for broken: `replay`
   * when the rebuilt memory does not match, `inspect` when the integrity
   * check fails. Default: sets `process.exitCode`.
   */
  readonly exit?: (code: number) => void;
}

/** A bundle file that cannot be read or written. */
export class BundleFileError extends SwarmbankError {
  constructor(
    readonly file: string,
    message: string,
    cause?: unknown,
  ) {
    super('BUNDLE_FILE', `bundle file ${file}: ${message}`, { cause });
  }
}

/** Error codes the `memory` commands throw for what the user gave (a directory, a file, a bundle): exit code 2. */
export const MEMORY_USAGE_ERRORS: readonly string[] = [
  'MEMORY_DIRECTORY',
  'MEMORY_OPTIONS',
  'BUNDLE_FILE',
  'BUNDLE_DECODE',
  'BUNDLE_HEADER',
  'BUNDLE_FORMAT',
  'BUNDLE_FEATURE_SPACE',
  'BUNDLE_DIMENSIONS',
  'BUNDLE_CHECKSUM',
  'BUNDLE_COUNT',
  'BUNDLE_PATTERN',
];

interface SelectionFlags {
  readonly tag: readonly string[];
  readonly minConfidence?: number;
  readonly origin: readonly string[];
}

/**
 * `swarmbank memory <inspect|export|import|distill|replay>`: look inside one
 * pattern memory on disk (a directory such as a deployment's
 * `<data-dir>/agents/<id>`), move patterns in and out as bundles, distill it,
 * and rebuild it from its journal to prove the journal is complete. The
 * memory's dimensions and feature space are read from the memory itself.
 */
export function memoryCommand(options: MemoryCommandOptions = {}): Command {
  const write = options.write ?? ((text: string) => process.stdout.write(text));
  const exit =
    options.exit ??
    ((code: number) => {
      process.exitCode = code;
    });
  const memory = new Command('memory')
    .description('Inspect a pattern memory on disk, export or import bundles, distill it, or replay its journal into a fresh directory.')
    .addHelpText(
      'after',
      '\nExamples:\n  swarmbank memory inspect --data runs/mesh/agents/agent-1\n  swarmbank memory export --data runs/mesh/agents/agent-1 --out bullish.bundle --tag bullish_reversal' +
        '\n  swarmbank memory replay --data runs/mesh/agents/agent-1 --into /tmp/agent-1-replayed',
    )
    // Subcommands are built before main.ts copies its settings (exitOverride, output) onto this command; pass them on when dispatching.
    .hook('preSubcommand', (command, subcommand) => {
      subcommand.copyInheritedSettings(command);
    });

  memory
    .command('inspect')
    .description('Print counts, bytes, the journal and snapshots, the top patterns by support, patterns per origin and condition, and the integrity check.')
    .requiredOption('--data <dir>', 'the pattern memory directory')
    .option('--top <n>', 'how many patterns to list, by support', nonNegativeInteger, 10)
    .option('--json', 'print the inspection as one JSON object')
    .addHelpText('after', '\nExit code 1 when the integrity check finds a problem.\n\nExamples:\n  swarmbank memory inspect --data runs/mesh/agents/agent-1 --top 20')
    .action(async (flags: { data: string; top: number; json?: boolean }) => {
      const inspection = await withMemory(flags.data, (m) => inspectMemory(m, flags.top));
      write(flags.json === true ? `${JSON.stringify(inspection, null, 2)}\n` : formatInspection(inspection));
      if (!inspection.integrity.ok) exit(1);
    });

  selectionOptions(
    memory
      .command('export')
      .description('Write the memory’s patterns, all or those the filters select, to a validated bundle file.')
      .requiredOption('--data <dir>', 'the pattern memory directory')
      .requiredOption('--out <file.bundle>', 'the bundle file to write'),
  )
    .addHelpText('after', '\nExamples:\n  swarmbank memory export --data agent-1 --out all.bundle\n  swarmbank memory export --data agent-1 --out sure.bundle --min-confidence 0.8 --origin agent-1')
    .action(async (flags: SelectionFlags & { data: string; out: string }) => {
      const select = selectionOf(flags);
      const text = await withMemory(flags.data, (m) => {
        const total = m.count();
        const bytes = exportBundle(m, select === undefined ? {} : { select });
        const { header } = decodeBundle(bytes, m);
        try {
          fs.writeFileSync(flags.out, bytes);
        } catch (error) {
          throw new BundleFileError(flags.out, `cannot be written (${errnoOf(error)})`, error);
        }
        return (
          `exported ${header.count} of ${total} patterns to ${flags.out} (${byteSize(bytes.byteLength)}; feature space ${header.featureSpaceId}, ` +
          `${header.dimensions} dimensions; sha256 ${header.checksum.slice(0, 16)}…)\n`
        );
      });
      write(text);
    });

  selectionOptions(
    memory
      .command('import')
      .description('Validate a bundle whole, then import its patterns (all, or with --selective those the filters select) in one journaled transaction.')
      .requiredOption('--data <dir>', 'the pattern memory directory')
      .requiredOption('--in <file.bundle>', 'the bundle file to read')
      .option('--selective', 'import only the patterns the filters select (at least one filter)'),
  )
    .addHelpText(
      'after',
      '\nA bundle of another feature space or dimension, with a bad checksum or an invalid pattern is refused whole and nothing is written.\n\n' +
        'Examples:\n  swarmbank memory import --data agent-2 --in all.bundle\n  swarmbank memory import --data agent-2 --in all.bundle --selective --tag bullish_reversal --min-confidence 0.6',
    )
    .action(async (flags: SelectionFlags & { data: string; in: string; selective?: boolean }, command: Command) => {
      const select = selectionOf(flags);
      if (flags.selective === true && select === undefined) command.error('error: --selective needs at least one of --tag, --min-confidence, --origin');
      if (flags.selective !== true && select !== undefined) command.error('error: --tag, --min-confidence and --origin apply only with --selective');
      const bytes = readBundleFile(flags.in);
      const text = await withMemory(flags.data, async (m) => {
        const before = m.count();
        const result = await importBundle(m, bytes, select === undefined ? { mode: 'full' } : { mode: 'selective', select }).catch(namingFile(flags.in));
        const added = m.count() - before;
        return (
          `imported ${result.imported.length} of the bundle's ${result.header.count} patterns from ${flags.in}` +
          `${result.skipped.length === 0 ? '' : ` (${result.skipped.length} left out by the selection)`}: ` +
          `${added} new, ${result.imported.length - added} updated; the memory holds ${m.count()} patterns\n`
        );
      });
      write(text);
    });

  memory
    .command('distill')
    .description('Merge near-duplicate patterns and prune weak ones, through the journal; --dry-run shows the plan and writes nothing.')
    .requiredOption('--data <dir>', 'the pattern memory directory')
    .option('--similarity <s>', 'cosine similarity at or above which patterns of the same labels merge, in (0, 1]', fraction(false), 0.97)
    .option('--min-support <n>', 'prune patterns supported by fewer observations', nonNegativeInteger, 2)
    .option('--min-confidence <c>', 'prune patterns trusted less, in [0, 1]', fraction(true), 0.5)
    .option('--dry-run', 'print what would be merged and pruned, change nothing')
    .addHelpText('after', '\nExamples:\n  swarmbank memory distill --data agent-1 --dry-run\n  swarmbank memory distill --data agent-1 --similarity 0.95 --min-support 3')
    .action(async (flags: { data: string; similarity: number; minSupport: number; minConfidence: number; dryRun?: boolean }) => {
      const settings: DistillOptions = { similarity: flags.similarity, minSupport: flags.minSupport, minConfidence: flags.minConfidence };
      const text = await withMemory(flags.data, async (m) => {
        if (flags.dryRun === true) {
          const patterns = [...m.iterate()];
          const plan = planDistillation(patterns, m.dimensions, settings);
          const absorbed = plan.merges.reduce((sum, merge) => sum + merge.from.length, 0);
          const after = patterns.length - absorbed - plan.prunes.length;
          return (
            `dry run (${describeSettings(settings)}): would merge ${absorbed} patterns into ${plan.merges.length}, prune ${plan.prunes.length}; ` +
            `patterns ${patterns.length} → ${after} (reduction ${percent(patterns.length === 0 ? 0 : 1 - after / patterns.length)}); nothing was written\n` +
            mergeLines(plan.merges)
          );
        }
        const result = await distill(m, settings);
        const absorbed = result.merged.reduce((sum, merge) => sum + merge.from.length, 0);
        return (
          `distilled (${describeSettings(settings)}): merged ${absorbed} patterns into ${result.merged.length}, pruned ${result.pruned.length}; ` +
          `patterns ${result.patternsBefore} → ${result.patternsAfter}; pattern pages ${byteSize(result.bytesBefore)} → ${byteSize(result.bytesAfter)} ` +
          `(reduction ${percent(result.reduction)})\n` +
          mergeLines(result.merged)
        );
      });
      write(text);
    });

  memory
    .command('replay')
    .description('Rebuild the memory from its newest snapshot and journal in a fresh directory, and verify the result: same ids, byte-identical records.')
    .requiredOption('--data <dir>', 'the pattern memory directory (nothing should write to it meanwhile)')
    .requiredOption('--into <dir>', 'a fresh directory for the rebuilt memory: missing or empty; kept afterwards')
    .addHelpText('after', '\nExit code 1 when the rebuilt memory does not match.\n\nExample:\n  swarmbank memory replay --data runs/mesh/agents/agent-1 --into /tmp/agent-1-replayed')
    .action(async (flags: { data: string; into: string }) => {
      const verdict = await replayInto(flags.data, flags.into);
      write(formatReplay(verdict));
      if (!verdict.match) exit(1);
    });

  return memory;
}

function selectionOptions(command: Command): Command {
  return command
    .option('--tag <tag>', 'select patterns with this tag (repeatable: any of them)', collect, [])
    .option('--min-confidence <c>', 'select patterns at least this confident, in [0, 1]', fraction(true))
    .option('--origin <agent>', 'select patterns learned by this agent (repeatable: any of them)', collect, []);
}

function collect(value: string, previous: readonly string[]): string[] {
  return [...previous, value];
}

function fraction(zeroAllowed: boolean): (value: string) => number {
  return (value) => {
    const parsed = Number(value);
    if (value.trim() === '' || !Number.isFinite(parsed) || parsed > 1 || parsed < 0 || (!zeroAllowed && parsed === 0)) {
      throw new InvalidArgumentError(`expected a number in ${zeroAllowed ? '[0, 1]' : '(0, 1]'}, got "${value}"`);
    }
    return parsed;
  };
}

function selectionOf(flags: SelectionFlags): BundleSelection | undefined {
  const select: BundleSelection = {
    ...(flags.tag.length === 0 ? {} : { tags: flags.tag }),
    ...(flags.minConfidence === undefined ? {} : { minConfidence: flags.minConfidence }),
    ...(flags.origin.length === 0 ? {} : { origin: flags.origin }),
  };
  return Object.keys(select).length === 0 ? undefined : select;
}

/** Rethrows a refused bundle's error with the file's name in front, keeping its code, field and index. */
function namingFile(file: string): (error: unknown) => never {
  return (error) => {
    if (!(error instanceof BundleError)) throw error;
    const where = { ...(error.field === undefined ? {} : { field: error.field }), ...(error.index === undefined ? {} : { index: error.index }) };
    throw new BundleError(error.code, `${file}: ${error.message}`, where, error);
  };
}

function readBundleFile(file: string): Uint8Array {
  try {
    return new Uint8Array(fs.readFileSync(file));
  } catch (error) {
    throw new BundleFileError(file, `cannot be read (${errnoOf(error)})`, error);
  }
}

function errnoOf(error: unknown): string {
  return (error as NodeJS.ErrnoException).code ?? String(error);
}

// ---------------------------------------------------------------------------
// distill

function describeSettings(settings: DistillOptions): string {
  return `similarity ≥ ${settings.similarity}, min support ${settings.minSupport}, min confidence ${settings.minConfidence}`;
}

const MERGES_SHOWN = 10;

function mergeLines(merges: readonly { readonly into: string; readonly from: readonly string[] }[]): string {
  const lines = merges.slice(0, MERGES_SHOWN).map((merge) => `  ${merge.into} ← ${merge.from.join(', ')}`);
  if (merges.length > MERGES_SHOWN) lines.push(`  … and ${merges.length - MERGES_SHOWN} more merges`);
  return lines.map((line) => `${line}\n`).join('');
}
