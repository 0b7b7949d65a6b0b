import type { ScenarioResult } from '../../learning/scenarios/result.js';
import { TOPOLOGIES } from '../../topologies/config.js';
import type { TopologyComparison } from '../../topologies/compare.js';
import { fixed, percent } from '../format.js';

/** A table as rows of cells, rendered to Markdown or HTML by the caller. */
export interface Table {
  readonly header: readonly string[];
  readonly rows: readonly (readonly string[])[];
}

/**
 * The reference's benchmark table with our figure beside each claim:
 * "claim → measured". Topologies in the reference's order.
 */
export function topologyTable(results: readonly TopologyComparison[]): Table {
  const ordered = TOPOLOGIES.flatMap((t) => results.filter((r) => r.topology === t));
  const row = (metric: string, cell: (r: TopologyComparison) => string) => [metric, ...ordered.map(cell)];
  return {
    header: ['', ...ordered.map((r) => r.topology)],
    rows: [
      row('Agents', (r) => `${r.reference.agents} → ${r.metrics.agents}`),
      row('Convergence', (r) => `${r.reference.convergence} → ${r.metrics.convergenceEpisode === null ? 'never' : `${r.metrics.convergenceEpisode} eps`}`),
      row('Sync latency', (r) => `${r.reference.syncLatency} → ${r.syncLatency === null ? 'n/a' : `p50 ${ms(r.syncLatency.p50Ms)}, p99 ${ms(r.syncLatency.p99Ms)}`}`),
      row('Accuracy', (r) => `${r.reference.accuracy} → ${percent(r.metrics.accuracy)} (oracle ${percent(r.metrics.oracleAccuracy)})`),
      row('Fault tolerance', (r) => `${r.reference.faultTolerance} → ${r.faultTolerance.verdict} (kept ${percent(r.faultTolerance.kept)})`),
      row('Scalability', (r) => `${r.reference.scalability} → ran ${r.scalability.largestAgents} (tried ${r.scalability.tried.join(', ')})`),
      row('Cost', (r) => `${r.reference.cost} → ${r.cost.messages} msgs, ${(r.cost.cpuMs / 1000).toFixed(1)} s CPU`),
    ],
  };
}

/** What each fault run killed and what it kept, for the notes under the table. */
export function faultTable(results: readonly TopologyComparison[]): Table {
  return {
    header: ['topology', 'killed', 'accuracy after the kill', 'same run without it', 'kept', 'episodes without a decision'],
    rows: results.map((r) => [
      r.topology,
      r.faultTolerance.killed,
      percent(r.faultTolerance.accuracyAfterKill),
      percent(r.faultTolerance.accuracyWithoutKill),
      percent(r.faultTolerance.kept),
      String(r.faultTolerance.silentEpisodes),
    ]),
  };
}

/** One row per claim of each scenario: the reference's words, our figure, the verdict, and the oracle. */
export function scenarioTable(scenarios: readonly ScenarioResult[]): Table {
  return {
    header: ['scenario', 'metric', 'reference', 'measured', 'verdict', 'oracle'],
    rows: scenarios.flatMap((s) =>
      s.claims.map((claim) => [
        s.scenario,
        claim.metric,
        claim.claim,
        claim.measured === null ? 'never' : claim.unit === 'share' ? percent(claim.measured) : claim.unit === 'seconds' ? `${fixed(claim.measured, 2)} s` : String(claim.measured),
        claim.verdict,
        percent(s.oracleAccuracy),
      ]),
    ),
  };
}

export function markdownTable(table: Table): string {
  const escape = (cell: string) => cell.replaceAll('|', '\\|');
  return [
    `| ${table.header.map(escape).join(' | ')} |`,
    `| ${table.header.map(() => '---').join(' | ')} |`,
    ...table.rows.map((row) => `| ${row.map(escape).join(' | ')} |`),
  ].join('\n');
}

export function htmlTable(table: Table): string {
  const escape = (cell: string) => cell.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
  return [
    '<table>',
    `<thead><tr>${table.header.map((h) => `<th>${escape(h)}</th>`).join('')}</tr></thead>`,
    `<tbody>${table.rows.map((row) => `<tr>${row.map((c) => `<td>${escape(c)}</td>`).join('')}</tr>`).join('')}</tbody>`,
    '</table>',
  ].join('\n');
}

function ms(value: number): string {
  return Number.isFinite(value) ? (value >= 1000 ? `${(value / 1000).toFixed(1)} s` : `${Math.round(value)} ms`) : 'n/a';
}
