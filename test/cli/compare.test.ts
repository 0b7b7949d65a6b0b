import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { XMLValidator } from 'fast-xml-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPORT_FILE } from '../../src/cli/compare.js';
import { metricsFileSchema } from '../../src/cli/report/metrics-file.js';
import { TOPOLOGIES } from '../../src/topologies/config.js';

const exec = promisify(execFile);
const out = fs.mkdtempSync(path.join(os.tmpdir(), 'swarmbank-compare-'));
let stdout = '';

beforeAll(async () => {
  ({ stdout } = await exec(process.execPath, ['bin/swarmbank.js', 'compare', '--quick', '--seed', '2', '--out', out], { timeout: 170_000 }));
}, 180_000);
afterAll(() => fs.rmSync(out, { recursive: true, force: true }));

const topologies = TOPOLOGIES;
const read = (file: string) => fs.readFileSync(path.join(out, file), 'utf8');

describe('swarmbank compare --quick', () => {
  it('writes every promised file', () => {
    const expected = [
      REPORT_FILE,
      'index.html',
      'metrics.schema.json',
      'learning-curves.svg',
      'accuracy.svg',
      'convergence.svg',
      'sync-latency.svg',
      ...topologies.map((t) => `${t}-metrics.json`),
      ...['cold-start', 'warm-start', 'transfer', 'continual', 'forgetting'].map((s) => `scenario-${s}.json`),
    ];
    expect(fs.readdirSync(out).sort()).toEqual(expected.sort());
    expect(stdout).toMatch(new RegExp(`wrote ${expected.length} files to ${out.replaceAll('/', '\\/')}`));
  });

  it('writes per-topology metrics that validate against their schema, with the seed and the reference row', () => {
    for (const topology of topologies) {
      const file = metricsFileSchema.parse(JSON.parse(read(`${topology}-metrics.json`)));
      expect(file).toMatchObject({ schemaVersion: 1, topology, seed: 2 });
      expect(file.measured.learningCurve.length).toBeGreaterThan(0);
    }
    expect(JSON.parse(read('metrics.schema.json'))).toHaveProperty('properties.schemaVersion');
  });

  it('draws SVG charts that parse as XML and name every topology and the oracle', () => {
    for (const chart of ['learning-curves.svg', 'accuracy.svg', 'convergence.svg', 'sync-latency.svg']) expect(XMLValidator.validate(read(chart)), chart).toBe(true);
    const curves = read('learning-curves.svg');
    for (const topology of topologies) expect(curves).toContain(topology);
    expect(curves).toContain('oracle');
  });

  it('puts the reference’s claims beside the measured figures in the Markdown and the self-contained HTML', () => {
    const markdown = read(REPORT_FILE);
    expect(markdown).toContain('Reproduce with `npx swarmbank compare --seed 2 --quick`');
    expect(markdown).toMatch(/\| Accuracy \| 85% → \d+\.\d% \(oracle \d+\.\d%\)/);
    expect(markdown).toMatch(/\| cold-start \| convergence \(episodes\) \| ~50-70 episodes \|/);
    const html = read('index.html');
    expect(html).toContain('<table>');
    expect(html.match(/<svg /g)?.length).toBe(4);
    expect(html).not.toMatch(/<script|src="http/);
  });
});
