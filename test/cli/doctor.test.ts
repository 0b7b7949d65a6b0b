import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Command } from 'commander';
import { afterEach, describe, expect, it } from 'vitest';
import { canImportHttp3Transport } from '../../src/cli/doctor-checks.js';
import { doctorCommand } from '../../src/cli/doctor.js';
import { runCommand } from '../../src/cli/run.js';
import { openPatternMemory } from '../../src/memory/store.js';

const exec = promisify(execFile);
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'swarmbank-doctor-'));
  dirs.push(dir);
  return dir;
}

interface Outcome {
  readonly out: string;
  readonly exitCode: number;
}

async function doctor(options: { http3?: boolean }, ...args: string[]): Promise<Outcome> {
  let out = '';
  let exitCode = 0;
  const program = new Command('swarmbank').exitOverride().configureOutput({ writeErr: () => undefined });
  program.addCommand(
    doctorCommand({
      write: (text) => (out += text),
      exit: (code) => (exitCode = code),
      ...(options.http3 === undefined ? {} : { probeHttp3: async () => options.http3! }),
    }).copyInheritedSettings(program),
  );
  await program.parseAsync(['node', 'swarmbank', 'doctor', ...args]);
  return { out, exitCode };
}

/** A real mesh deployment's data directory (agents/<id> memories, the actor journal) with its `run --json` metrics beside them. */
async function deploymentDir(): Promise<string> {
  const dir = tempDir();
  let json = '';
  const program = new Command('swarmbank').exitOverride().addCommand(runCommand({ write: (text) => (json += text) }));
  await program.parseAsync(['node', 'swarmbank', 'run', 'mesh', '--agents', '2', '--episodes', '2', '--data-dir', dir, '--json']);
  fs.writeFileSync(path.join(dir, 'metrics.json'), json);
  return dir;
}

function writeJson(dir: string, file: string, value: unknown): void {
  fs.writeFileSync(path.join(dir, file), JSON.stringify(value));
}

function forgettingResult(retention: number): unknown {
  return {
    scenario: 'forgetting',
    seed: 1,
    accuracy: 0.74,
    oracleAccuracy: 0.8,
    convergenceEpisode: 12,
    config: { distillationInterval: 100, memoryConsolidation: true, retentionTarget: 0.8, learningRate: 0.01 },
    details: { protected: { retention }, unprotected: { retention: retention / 2 } },
  };
}

describe('swarmbank doctor', () => {
  it('finds the symptoms planted in a deployment data directory and prints each with the remedies of the troubleshooting table', async () => {
    const dir = await deploymentDir();
    const healthy = JSON.parse(fs.readFileSync(path.join(dir, 'metrics.json'), 'utf8'));
    writeJson(dir, 'ring-metrics.json', {
      ...healthy,
      topology: 'ring',
      accuracy: 0.6,
      oracleAccuracy: 0.66,
      convergenceEpisode: null,
      topologyMetrics: { syncLatency: { count: 40, p50Ms: 30_000, p99Ms: 150_000, maxMs: 181_000 } },
    });
    writeJson(dir, 'forgetting.json', forgettingResult(0.4));
    writeJson(dir, 'config.json', { topology: 'hierarchical', leader: { learningRate: 0.005 }, workers: { count: 4, learningRate: 0.08 } });
    fs.writeFileSync(path.join(dir, 'notes.json'), '{ not json');

    const { out, exitCode } = await doctor({ http3: false }, '--data', dir);
    expect(exitCode).toBe(1);
    expect(out).toMatch(/^read 2 pattern memories \(agents\/agent-1, agents\/agent-2\) and 4 JSON files \(config\.json: config; forgetting\.json: scenario result of forgetting; metrics\.json: deployment metrics of mesh; ring-metrics\.json: deployment metrics of ring\)$/m);
    expect(out).toMatch(/^ignored notes\.json: cannot be read as JSON/m);
    expect(out).toMatch(/^SYMPTOM {2}HTTP\/3 transport: HTTP\/3 transport absent: @fails-components\/webtransport-transport-http3-quiche cannot be imported\n {4}remedy: npm install /m);
    expect(out).toMatch(/^SYMPTOM {2}Accuracy: accuracy stuck below 70\.0%: ring-metrics\.json \(ring\) 60\.0% \(oracle 66\.0%\), converged never\n {4}remedy: Increase learning rate \(0\.01 → 0\.02\)\n {4}remedy: Pre-load common patterns \(warm start\)/m);
    expect(out).toMatch(/^SYMPTOM {2}Sync latency: sync latency above 120 s: ring-metrics\.json \(ring\) p99 150 s, max 181 s over 40 syncs\n {4}remedy: Enable QUIC protocol for mesh/m);
    expect(out).toMatch(/^SYMPTOM {2}Retention: catastrophic forgetting, retention below 0\.5: forgetting\.json retention 0\.40 \(0\.20 unprotected\)\n {4}remedy: Enable memory consolidation/m);
    expect(out).toMatch(/^SYMPTOM {2}Learning rate: learning rate above 0\.05: config\.json workers\.learningRate 0\.08\n {4}remedy: /m);
    expect(out).toMatch(/^ok {2}Memory size: 2 pattern memories, \d+ patterns, [\d.]+ KiB in all \(largest agents\/agent-\d: [\d.]+ KiB\), within 500 MB$/m);
    expect(out).toMatch(/^ok {2}Node\.js: v\d+/m);
    expect(out).toMatch(/\n5 symptoms found\n$/);
    expect(out.indexOf('SYMPTOM')).toBeLessThan(out.indexOf('ok  '));
  });

  it('reports a healthy deployment as fine, says what it could not check, and exits 0', async () => {
    const dir = await deploymentDir();
    const { out, exitCode } = await doctor({ http3: true }, '--data', dir);
    expect(exitCode).toBe(0);
    expect(out).not.toMatch(/SYMPTOM/);
    expect(out).toMatch(/^ok {2}Accuracy: at least 70\.0% in metrics\.json \(mesh\) \d+\.\d%/m);
    expect(out).toMatch(/^ok {2}Sync latency: p99 within 120 s: metrics\.json \(mesh\) p99 \d/m);
    expect(out).toMatch(/^ok {2}Learning rate: at most 0\.05 in 1 setting \(highest 0\.01\)$/m);
    expect(out).toMatch(/^not checked {2}Retention: no forgetting scenario result in \S+ \(swarmbank scenario forgetting --json > forgetting\.json\)$/m);
    expect(out).toMatch(/\nno symptoms found\n$/);
  });

  it('finds a memory on disk above --max-memory-mb, and reads a lone memory directory as well as a deployment', async () => {
    const dir = path.join(tempDir(), 'agent-1');
    const memory = await openPatternMemory({ path: dir, dimensions: 4, featureSpaceId: 'doctor-test' });
    await memory.upsertMany(
      Array.from({ length: 300 }, (_, i) => ({
        id: `p${i}`,
        embedding: Float32Array.from([i, 1, -i, 2]),
        outcome: 'up' as const,
        confidence: 0.5,
        support: 3,
        successes: 2,
        origin: 'agent-1',
      })),
    );
    await memory.close();

    const fine = await doctor({ http3: true }, '--data', dir);
    expect(fine.exitCode).toBe(0);
    expect(fine.out).toMatch(/^ok {2}Memory size: 1 pattern memory, 300 patterns, [\d.]+ KiB in all, within 500 MB$/m);

    const { out, exitCode } = await doctor({ http3: true }, '--data', dir, '--max-memory-mb', '0.05');
    expect(exitCode).toBe(1);
    expect(out).toMatch(/^SYMPTOM {2}Memory size: high memory usage: 1 pattern memory, 300 patterns, [\d.]+ KiB in all, above 0\.05 MB\n {4}remedy: Enable quantization \(4-8x reduction\)/m);
    expect(out).toMatch(/^not checked {2}Accuracy: no measured accuracy in /m);
  });

  it('checks the environment alone without --data, and finds the HTTP/3 transport absent without crashing when it cannot be imported', async () => {
    const importable = await canImportHttp3Transport();
    const { out, exitCode } = await doctor({}, '--json');
    const report = JSON.parse(out);
    expect(report.dataDir).toBeNull();
    const http3 = report.findings.find((f: { check: string }) => f.check === 'HTTP/3 transport');
    expect(http3.verdict).toBe(importable ? 'ok' : 'symptom');
    expect(exitCode).toBe(report.symptoms > 0 ? 1 : 0);
    expect(report.findings.filter((f: { verdict: string }) => f.verdict === 'not-checked').map((f: { check: string }) => f.check)).toEqual([
      'Accuracy',
      'Memory size',
      'Sync latency',
      'Retention',
      'Learning rate',
    ]);
  });

  it('refuses a --data directory that does not exist', async () => {
    const missing = path.join(tempDir(), 'nope');
    await expect(doctor({ http3: true }, '--data', missing)).rejects.toMatchObject({ code: 'MEMORY_DIRECTORY', message: `${missing}: does not exist` });
  });

  it('exits 1 from the installed command when a planted symptom is found, and 2 with one line on a missing directory', async () => {
    const dir = tempDir();
    writeJson(dir, 'metrics.json', { topology: 'mesh', accuracy: 0.6, learningCurve: [], config: { topology: 'mesh', learningRate: 0.08 } });
    const found = await exec(process.execPath, ['bin/swarmbank.js', 'doctor', '--data', dir]).catch((e: { code: number; stdout: string }) => e);
    expect(found).toMatchObject({ code: 1 });
    expect((found as { stdout: string }).stdout).toMatch(/^SYMPTOM {2}Accuracy: accuracy stuck below 70\.0%: metrics\.json \(mesh\) 60\.0%/m);
    expect((found as { stdout: string }).stdout).toMatch(/^SYMPTOM {2}Learning rate: learning rate above 0\.05: metrics\.json config\.learningRate 0\.08/m);

    const missing = await exec(process.execPath, ['bin/swarmbank.js', 'doctor', '--data', path.join(dir, 'nope')]).catch((e: { code: number; stderr: string }) => e);
    expect(missing).toMatchObject({ code: 2 });
    expect((missing as { stderr: string }).stderr.trim().split('\n')).toHaveLength(1);
    expect((missing as { stderr: string }).stderr).toMatch(/nope: does not exist/);
  });
});
