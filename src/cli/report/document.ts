import type { ScenarioResult } from '../../learning/scenarios/result.js';
import type { ComparisonReport } from '../../topologies/compare.js';
import { percent } from '../format.js';
import type { Chart } from './charts.js';
import { faultTable, htmlTable, markdownTable, scenarioTable, topologyTable } from './tables.js';

/** Everything a report says, measured in one run. */
export interface ReportData {
  readonly seed: number;
  readonly quick: boolean;
  readonly generatedAt: string;
  readonly durationMs: number;
  readonly versions: Readonly<Record<string, string>>;
  readonly comparison: ComparisonReport;
  readonly scenarios: readonly ScenarioResult[];
  readonly charts: readonly Chart[];
}

const TITLE = 'Learning patterns comparison';

function command(data: ReportData): string {
  return `npx swarmbank compare --seed ${data.seed}${data.quick ? ' --quick' : ''}`;
}

function oracleLine(data: ReportData): string {
  const oracles = data.comparison.results.map((r) => r.metrics.oracleAccuracy).filter(Number.isFinite);
  const mean = oracles.length === 0 ? Number.NaN : oracles.reduce((a, b) => a + b, 0) / oracles.length;
  return (
    `The oracle — which knows the simulator's latent regime — scores ${percent(mean)} on the same held-out steps: the most any learner can reach. ` +
    'Every accuracy here is held-out accuracy, learning off, on decided steps.'
  );
}

function intro(data: ReportData): string[] {
  return [
    `Seed ${data.seed}${data.quick ? ', quick settings' : ''}, ${data.comparison.episodes} episodes per topology, generated ${data.generatedAt} in ${(data.durationMs / 1000).toFixed(0)} s.`,
    `Reproduce with \`${command(data)}\`. Versions: ${Object.entries(data.versions).map(([name, version]) => `${name} ${version}`).join(', ')}.`,
    '',
    'Each cell of the topology table reads "the reference\'s claim → what we measured". The reference\'s figures were never measured;',
    'ours come from the run that wrote this file. Fault tolerance is the accuracy kept after killing the topology\'s most critical',
    'actor halfway (never restarted), against the same run without the kill. Scalability is the largest agent count that ran two',
    'episodes within 15 s each. Latencies and CPU time depend on the machine; accuracies and episode counts depend on the seed only.',
  ];
}

export function reportMarkdown(data: ReportData): string {
  return [
    `# ${TITLE}`,
    '',
    ...intro(data),
    '',
    oracleLine(data),
    '',
    '## Deployment topologies',
    '',
    markdownTable(topologyTable(data.comparison.results)),
    '',
    '### Fault runs',
    '',
    markdownTable(faultTable(data.comparison.results)),
    '',
    '## Learning scenarios',
    '',
    markdownTable(scenarioTable(data.scenarios)),
    '',
    '## Charts',
    '',
    ...data.charts.map((chart) => `![${chart.title}](${chart.file})`),
    '',
    'Per-topology figures: ' + data.comparison.results.map((r) => `[${r.topology}](${r.topology}-metrics.json)`).join(', ') + ' (schema: [metrics.schema.json](metrics.schema.json)).',
    '',
  ].join('\n');
}

/** One file with the tables and the charts inline: nothing to fetch, opens anywhere. */
export function reportHtml(data: ReportData): string {
  const paragraph = (text: string) => `<p>${text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replace(/`([^`]+)`/g, '<code>$1</code>')}</p>`;
  return [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8">',
    `<title>${TITLE}</title>`,
    '<style>body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}',
    'table{border-collapse:collapse;margin:1em 0;font-size:14px}th,td{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}',
    'th{background:#f4f4f4}figure{margin:2em 0}code{background:#f4f4f4;padding:1px 4px}</style>',
    '</head><body>',
    `<h1>${TITLE}</h1>`,
    paragraph(intro(data).filter((line) => line !== '').join(' ')),
    paragraph(oracleLine(data)),
    '<h2>Deployment topologies</h2>',
    htmlTable(topologyTable(data.comparison.results)),
    '<h3>Fault runs</h3>',
    htmlTable(faultTable(data.comparison.results)),
    '<h2>Learning scenarios</h2>',
    htmlTable(scenarioTable(data.scenarios)),
    '<h2>Charts</h2>',
    ...data.charts.map((chart) => `<figure><figcaption>${chart.title}</figcaption>${chart.svg}</figure>`),
    '</body></html>',
    '',
  ].join('\n');
}
