import fs from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import { SCENARIOS, type ScenarioInputs, type ScenarioName } from '../learning/scenarios/config.js';
import type { ScenarioResult } from '../learning/scenarios/result.js';
import { runScenario } from '../learning/scenarios/run.js';
import { compare } from '../topologies/compare.js';
import { seed } from './arguments.js';
import { table } from './format.js';
import { comparisonCharts } from './report/charts.js';
import { reportHtml, reportMarkdown, type ReportData } from './report/document.js';
import { metricsFile, metricsJsonSchema } from './report/metrics-file.js';
import { topologyTable } from './report/tables.js';
import { versions } from './report/versions.js';

export interface CompareCommandOptions {
  readonly write?: (text: string) => void;
  /** Where progress goes: one line per stage. Default: standard error. */
  readonly progress?: (text: string) => void;
}

interface Flags {
  readonly out: string;
  readonly seed: number;
  readonly quick?: boolean;
}

export const REPORT_FILE = 'LEARNING_PATTERNS_COMPARISON.md';

/** Shorter scenario runs for `--quick`: the same measurements, fewer episodes and held-out episodes. */
const QUICK_SCENARIOS: { readonly [N in ScenarioName]: ScenarioInputs[N] } = {
  'cold-start': { warmupEpisodes: 30, evalEpisodes: 4 },
  'warm-start': { warmupEpisodes: 20, libraryEpisodes: 20, evalEpisodes: 4 },
  transfer: { continueTraining: 15, sourceEpisodes: 20, evalEpisodes: 4 },
  continual: {},
  forgetting: { taskEpisodes: 40, distillationInterval: 20, evalEpisodes: 4 },
};

/**
 * `swarmbank compare`: every topology and every learning scenario on the
 * same seeded market, written as a report — the reference's tables with our
 * figures beside its claims, per-topology metrics files with their schema,
 * SVG charts, and one self-contained index.html.
 */
export function compareCommand(options: CompareCommandOptions = {}): Command {
  const write = options.write ?? ((text: string) => process.stdout.write(text));
  const progress = options.progress ?? ((text: string) => process.stderr.write(text));
  return new Command('compare')
    .description('Run all six topologies and the five learning scenarios on one seeded market and write the comparison report.')
    .option('--out <dir>', 'where the report goes', 'docs/reports')
    .option('--seed <n>', 'seed of the market and of every random choice', seed, 1)
    .option('--quick', 'fewer episodes and smaller trials: the whole report in a couple of minutes')
    .addHelpText('after', '\nExamples:\n  swarmbank compare --quick\n  swarmbank compare --seed 7 --out /tmp/report')
    .action(async (flags: Flags) => {
      const began = performance.now();
      const quick = flags.quick === true;
      const comparison = await compare({ seed: flags.seed, quick, onProgress: (topology, stage) => progress(`${topology}: ${stage} run\n`) });
      const scenarios: ScenarioResult[] = [];
      for (const name of SCENARIOS) {
        progress(`scenario ${name}\n`);
        scenarios.push(await runScenario(name, quick ? QUICK_SCENARIOS[name] : {}, { seed: flags.seed }));
      }
      const charts = await comparisonCharts(comparison.results);
      const data: ReportData = {
        seed: flags.seed,
        quick,
        generatedAt: new Date().toISOString(),
        durationMs: performance.now() - began,
        versions: versions(),
        comparison,
        scenarios,
        charts,
      };
      const files = writeReport(flags.out, data);
      write(
        [
          ...table(topologyTable(comparison.results).header, topologyTable(comparison.results).rows),
          '',
          `wrote ${files.length} files to ${flags.out} in ${(data.durationMs / 1000).toFixed(0)} s: ${files.join(', ')}`,
          '',
        ].join('\n'),
      );
    });
}

/** Writes the report's files and returns their names. */
export function writeReport(dir: string, data: ReportData): string[] {
  fs.mkdirSync(dir, { recursive: true });
  const files: [string, string][] = [
    [REPORT_FILE, reportMarkdown(data)],
    ['index.html', reportHtml(data)],
    ['metrics.schema.json', `${JSON.stringify(metricsJsonSchema(), null, 2)}\n`],
    ...data.comparison.results.map((r): [string, string] => [`${r.topology}-metrics.json`, `${JSON.stringify(metricsFile(r, data.seed, data.generatedAt), null, 2)}\n`]),
    ...data.scenarios.map((s): [string, string] => [`scenario-${s.scenario}.json`, `${JSON.stringify(s, null, 2)}\n`]),
    ...data.charts.map((chart): [string, string] => [chart.file, chart.svg]),
  ];
  for (const [name, content] of files) fs.writeFileSync(path.join(dir, name), content);
  return files.map(([name]) => name);
}
