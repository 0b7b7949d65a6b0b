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

  it('exits with code 2 and one line on a bad config from the installed command', async () => {
    const bad = await exec(process.execPath, ['bin/swarmbank.js', 'run', 'mesh', '--config', configFile({ topology: 'mesh', agentCount: 1 })]).catch(
      (e: { code: number; stderr: string }) => e,
    );
    expect(bad).toMatchObject({ code: 2 });
    expect((bad as { stderr: string }).stderr.trim().split('\n')).toHaveLength(1);
    expect((bad as { stderr: string }).stderr).toMatch(/agentCount/);
  });
});
