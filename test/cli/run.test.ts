import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Command } from 'commander';
import { afterEach, describe, expect, it } from 'vitest';
import { runCommand } from '../../src/cli/run.js';

const exec = promisify(execFile);
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

async function run(...args: string[]): Promise<string> {
  let out = '';
  const program = new Command('swarmbank').exitOverride().addCommand(runCommand({ write: (text) => (out += text) }));
  await program.parseAsync(['node', 'swarmbank', 'run', ...args]);
  return out;
}

function configFile(config: unknown): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'swarmbank-run-'));
  dirs.push(dir);
  const file = path.join(dir, 'config.json');
  fs.writeFileSync(file, JSON.stringify(config));
  return file;
}

describe('swarmbank run', () => {
  it('prints the metrics object alone with --json: accuracy, oracle, convergence, agents, seed and the topology’s own figures', async () => {
    const metrics = JSON.parse(await run('mesh', '--agents', '3', '--episodes', '3', '--seed', '4', '--json'));
    expect(metrics).toMatchObject({ topology: 'mesh', agents: 3, seed: 4, episodes: 3, config: { agentCount: 3 } });
    for (const key of ['accuracy', 'oracleAccuracy', 'convergenceEpisode', 'learningCurve']) expect(metrics).toHaveProperty(key);
    expect(metrics.topologyMetrics.syncLatency.count).toBeGreaterThan(0);
  });

  it('runs the config of a file, and prints tables of what it measured', async () => {
    const file = configFile({ topology: 'mesh', agentCount: 3, learningRate: 0.02, consensusThreshold: 1 });
    const text = await run('mesh', '--config', file, '--episodes', '2');
    expect(text).toMatch(/^mesh \(seed 1, 3 agents, 2 episodes/);
    expect(text).toMatch(/"consensusThreshold":1/);
    expect(text).toMatch(/agent-3\s+\d+\.\d%/);
    expect(text).toMatch(/syncLatency\.p50Ms: /);
  });

  it('refuses a config whose topology is not the one asked for, and an unknown topology', async () => {
    await expect(run('mesh', '--config', configFile({ topology: 'ring' }))).rejects.toThrow(/has topology "ring", but the command runs mesh/);
    await expect(run('star')).rejects.toThrow(/unknown topology "star"/);
  });

  it('refuses a --seed outside 0..2^31−1, which would replay another seed’s run, before running anything', async () => {
    for (const seed of ['4294967296', '9007199254740991', '-1', '1.5']) {
      const command = runCommand({ write: () => undefined }).exitOverride().configureOutput({ writeErr: () => undefined });
      await expect(command.parseAsync(['mesh', '--episodes', '1', '--seed', seed], { from: 'user' })).rejects.toThrow(`option '--seed <n>' argument '${seed}' is invalid. expected an integer from 0 to 2147483647`);
    }
  });

  it('exits with code 2 and one line on a bad config from the installed command', async () => {
    const bad = await exec(process.execPath, ['bin/swarmbank.js', 'run', 'mesh', '--config', configFile({ topology: 'mesh', agentCount: 1 })]).catch(
      (e: { code: number; stderr: string }) => e,
    );
    expect(bad).toMatchObject({ code: 2 });
    expect((bad as { stderr: string }).stderr.trim().split('\n')).toHaveLength(1);
    expect((bad as { stderr: string }).stderr).toMatch(/agentCount/);
  });
});

describe('swarmbank run --metrics-port', () => {
  it('serves Prometheus metrics on loopback while the deployment runs, and stops serving when it ends', async () => {
    let port = 0;
    const progress = Object.assign(new (await import('node:stream')).PassThrough(), { isTTY: false }) as unknown as NodeJS.WriteStream;
    const scraped: string[] = [];
    progress.on('data', (chunk: Buffer) => {
      const match = /127\.0\.0\.1:(\d+)\/metrics/.exec(chunk.toString());
      if (match) port = Number(match[1]);
    });
    const program = new Command('swarmbank').exitOverride().addCommand(runCommand({ write: () => undefined, progress }));
    const running = program.parseAsync(['node', 'swarmbank', 'run', 'mesh', '--agents', '2', '--episodes', '6', '--metrics-port', '0']);
    for (let attempt = 0; attempt < 200 && scraped.length === 0; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 25));
      if (port === 0) continue;
      const response = await fetch(`http://127.0.0.1:${port}/metrics`).catch(() => undefined);
      if (response?.ok) scraped.push(await response.text());
    }
    await running;
    expect(scraped[0]).toContain('swarmbank_actors_live{runtime="mesh"}');
    await expect(fetch(`http://127.0.0.1:${port}/metrics`)).rejects.toThrow();
  });
});

describe('swarmbank run --inject and --data', () => {
  it('crashes and stops the named actors before the episodes asked, and keeps running', async () => {
    const metrics = JSON.parse(await run('mesh', '--agents', '3', '--episodes', '4', '--json', '--inject', 'crash:agent-2@episode:2', '--inject', 'stop:agent-3@episode:3'));
    expect(metrics.crashes).toBeGreaterThanOrEqual(1);
    const live = Object.fromEntries(metrics.perAgent.map((a: { id: string; live: boolean }) => [a.id, a.live]));
    expect(live).toEqual({ 'agent-1': true, 'agent-2': true, 'agent-3': false });
    expect(metrics.learningCurve).toHaveLength(4);
  });

  it('refuses an injection it cannot read, or one naming no actor, saying what it expects', async () => {
    await expect(run('mesh', '--inject', 'explode:agent-2')).rejects.toThrow(/expected <crash\|stop>:<actor>@episode:<n>/);
    await expect(run('mesh', '--episodes', '1', '--inject', 'crash:agent-9@episode:1')).rejects.toThrow(/no actor at \/mesh\/agent-9 \(actors: .*\/mesh\/agent-1/);
  });

  it('learns from the S&P 500 with --data sp500, evaluated on the series’ last bars, without an oracle', async () => {
    const metrics = JSON.parse(await run('mesh', '--agents', '2', '--episodes', '3', '--data', 'sp500', '--json'));
    expect(metrics.learningCurve).toHaveLength(3);
    expect(metrics.oracleAccuracy).toBeNull();
    expect(metrics.accuracy).toBeGreaterThan(0.3);
    expect(metrics.accuracy).toBeLessThan(0.7);
  });

  it('prints one progress line per episode on standard error when it is not a terminal', async () => {
    let lines = '';
    const progress = Object.assign(new (await import('node:stream')).PassThrough(), { isTTY: false }) as unknown as NodeJS.WriteStream;
    progress.on('data', (chunk: Buffer) => (lines += chunk.toString()));
    const program = new Command('swarmbank').exitOverride().addCommand(runCommand({ write: () => undefined, progress }));
    await program.parseAsync(['node', 'swarmbank', 'run', 'ring', '--episodes', '2']);
    expect(lines).toMatch(/^ring episode 1\/2 accuracy \d+\.\d%\nring episode 2\/2 accuracy \d+\.\d%\n$/);
  });
});
