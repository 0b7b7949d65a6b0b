import * as vega from 'vega';
import * as vl from 'vega-lite';
import type { TopologyComparison } from '../../topologies/compare.js';
import type { DeploymentMetrics } from '../../topologies/deployment.js';

/** A chart of the report: its file name and the SVG. */
export interface Chart {
  readonly file: string;
  readonly title: string;
  readonly svg: string;
}

/** Renders a Vega-Lite spec to SVG in Node, without a browser or a canvas. */
export async function renderSvg(spec: vl.TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(vl.compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

export async function comparisonCharts(results: readonly TopologyComparison[]): Promise<Chart[]> {
  const charts: Chart[] = [
    { file: 'learning-curves.svg', title: 'Learning curves', svg: await renderSvg(learningCurves(results)) },
    { file: 'accuracy.svg', title: 'Accuracy: measured and claimed', svg: await renderSvg(accuracyBars(results)) },
    { file: 'convergence.svg', title: 'Convergence: measured and claimed', svg: await renderSvg(convergenceBars(results)) },
  ];
  const latencies = results.flatMap((r) => syncLatencySamples(r.metrics).map((ms) => ({ topology: r.topology, ms })));
  if (latencies.length > 0) charts.push({ file: 'sync-latency.svg', title: 'Sync latency', svg: await renderSvg(syncLatencyChart(latencies)) });
  return charts;
}

/** Every topology's held-out accuracy per episode on one chart, and the oracle's mean as a dashed line. */
export function learningCurves(results: readonly TopologyComparison[]): vl.TopLevelSpec {
  const values = results.flatMap((r) =>
    r.metrics.learningCurve.filter((p) => Number.isFinite(p.accuracy)).map((p) => ({ topology: r.topology, episode: p.episode, accuracy: p.accuracy })),
  );
  const oracles = results.flatMap((r) => r.metrics.learningCurve.map((p) => p.oracleAccuracy)).filter(Number.isFinite);
  const oracle = oracles.length === 0 ? Number.NaN : oracles.reduce((a, b) => a + b, 0) / oracles.length;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: 'Held-out accuracy per episode (dashed: the oracle)',
    width: 560,
    height: 320,
    layer: [
      {
        data: { values },
        mark: { type: 'line', point: false },
        encoding: {
          x: { field: 'episode', type: 'quantitative', title: 'episode' },
          y: { field: 'accuracy', type: 'quantitative', title: 'accuracy', scale: { domain: [0.4, 1] } },
          color: { field: 'topology', type: 'nominal' },
        },
      },
      ...(Number.isFinite(oracle)
        ? [
            {
              data: { values: [{ oracle, label: `oracle ${(oracle * 100).toFixed(1)}%` }] },
              layer: [
                { mark: { type: 'rule' as const, strokeDash: [6, 4], color: 'black' }, encoding: { y: { field: 'oracle', type: 'quantitative' as const } } },
                {
                  mark: { type: 'text' as const, align: 'left' as const, dx: 4, dy: -6, x: 0 },
                  encoding: { y: { field: 'oracle', type: 'quantitative' as const }, text: { field: 'label', type: 'nominal' as const } },
                },
              ],
            },
          ]
        : []),
    ],
  };
}

/** Measured accuracy beside the reference's claim (the middle of a claimed range). */
export function accuracyBars(results: readonly TopologyComparison[]): vl.TopLevelSpec {
  const values = results.flatMap((r) => [
    ...(Number.isFinite(r.metrics.accuracy) ? [{ topology: r.topology, source: 'measured', value: r.metrics.accuracy }] : []),
    ...claimed(r.reference.accuracy, 100).map((value) => ({ topology: r.topology, source: 'reference claim', value })),
  ]);
  return groupedBars(values, 'accuracy', 'Accuracy at the last evaluation, and the reference’s claim');
}

export function convergenceBars(results: readonly TopologyComparison[]): vl.TopLevelSpec {
  const values = results.flatMap((r) => [
    ...(r.metrics.convergenceEpisode === null ? [] : [{ topology: r.topology, source: 'measured', value: r.metrics.convergenceEpisode }]),
    ...claimed(r.reference.convergence, 1).map((value) => ({ topology: r.topology, source: 'reference claim', value })),
  ]);
  return groupedBars(values, 'episodes', 'Episodes to converge (rolling mean of 5 ≥ 0.7), and the reference’s claim');
}

function groupedBars(values: readonly { topology: string; source: string; value: number }[], axis: string, title: string): vl.TopLevelSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title,
    width: { step: 18 },
    height: 260,
    data: { values: [...values] },
    mark: 'bar',
    encoding: {
      column: { field: 'topology', type: 'nominal', title: null },
      x: { field: 'source', type: 'nominal', axis: null },
      y: { field: 'value', type: 'quantitative', title: axis },
      color: { field: 'source', type: 'nominal', title: null },
    },
  };
}

export function syncLatencyChart(values: readonly { topology: string; ms: number }[]): vl.TopLevelSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: 'Sync latency: mesh replication (commit to every live peer), hierarchical aggregation (deltas to the leader)',
    width: 480,
    height: 200,
    data: { values: [...values] },
    mark: { type: 'boxplot', extent: 'min-max' },
    encoding: {
      y: { field: 'topology', type: 'nominal', title: null },
      x: { field: 'ms', type: 'quantitative', title: 'milliseconds', scale: { type: 'symlog' } },
      color: { field: 'topology', type: 'nominal', legend: null },
    },
  };
}

/** The raw sync latencies a topology recorded, where knowledge travels by sync. */
export function syncLatencySamples(metrics: DeploymentMetrics): readonly number[] {
  if (metrics.topology === 'mesh') return (metrics as DeploymentMetrics<'mesh'>).topologyMetrics.syncLatenciesMs;
  if (metrics.topology === 'hierarchical') return (metrics as DeploymentMetrics<'hierarchical'>).topologyMetrics.aggregationLatenciesMs;
  return [];
}

/** "85%" → 0.85, "80-90%" → 0.85, "20 eps" → 20, "Variable" or "N/A" → nothing. */
export function claimed(text: string, percentScale: number): number[] {
  const numbers = [...text.matchAll(/\d+(\.\d+)?/g)].map((m) => Number(m[0]));
  if (numbers.length === 0) return [];
  const mid = numbers.reduce((a, b) => a + b, 0) / numbers.length;
  return [text.includes('%') ? mid / percentScale : mid];
}
