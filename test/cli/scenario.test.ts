import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Command } from 'commander';
import { afterEach, describe, expect, it } from 'vitest';
import { scenarioCommand } from '../../src/cli/scenario.js';

const run = promisify(execFile);
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

async function scenario(...args: string[]): Promise<string> {
  let out = '';
  const program = new Command('swarmbank').exitOverride().addCommand(scenarioCommand({ write: (text) => (out += text) }));
  await program.parseAsync(['node', 'swarmbank', 'scenario', ...args]);
  return out;
}

function configFile(content: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'swarmbank-cli-'));
  dirs.push(dir);
  const file = path.join(dir, 'config.json');
  fs.writeFileSync(file, content);
  return file;
}

describe('swarmbank scenario', () => {
  it('prints the metrics object alone with --json: accuracy, oracle, convergence, seed and learning curve', async () => {
    const result = JSON.parse(await scenario('cold-start', '--episodes', '6', '--seed', '5', '--json'));
    expect(result).toMatchObject({ scenario: 'cold-start', seed: 5, config: { warmupEpisodes: 6 } });
    expect(result.accuracy).toBeGreaterThan(0.5);
    expect(result.oracleAccuracy).toBeGreaterThan(result.accuracy - 0.1);
    expect(result.learningCurve).toHaveLength(6);
    expect('convergenceEpisode' in result).toBe(true);
  });

  it('reads the scenario config from a file, --episodes overriding its training length', async () => {
    const file = configFile(JSON.stringify({ learningRate: 0.005, onlineLearning: true, tradingPeriod: 30, tradesPerDay: 5, pretrainEpisodes: 2 }));
    const result = JSON.parse(await scenario('continual', '--config', file, '--episodes', '4', '--json'));
    expect(result.config).toMatchObject({ learningRate: 0.005, tradingPeriod: 4, tradesPerDay: 5 });
    expect(result.details.trading.steps).toBe(20);
  });

  it('prints a table of measured figures beside the reference claims', async () => {
    const text = await scenario('transfer', '--episodes', '5');
    expect(text).toMatch(/^transfer \(seed 1, /);
    expect(text).toMatch(/reference claim vs measured/);
    expect(text).toMatch(/faster than cold\s+50-70% faster\s+\S+\s+(within|better|worse|not-reached)/);
    expect(text).toMatch(/transferred \d+ of the source's \d+ patterns/);
  });

  it('refuses an unknown key in the config file, naming it', async () => {
    const file = configFile(JSON.stringify({ learningRat: 0.02 }));
    await expect(scenario('cold-start', '--config', file)).rejects.toThrow(/cold-start config key learningRat: is not a cold-start key/);
    await expect(scenario('cold-start', '--config', configFile('{ learningRate: 0.02 }'))).rejects.toThrow(/is not JSON/);
    await expect(scenario('lukewarm-start')).rejects.toThrow(/unknown scenario/);
  });

  it('refuses a --seed outside 0..2^31−1, which would replay another seed’s curve, before running anything', async () => {
    for (const seed of ['4294967296', '-2147483643']) {
      const command = scenarioCommand({ write: () => undefined }).exitOverride().configureOutput({ writeErr: () => undefined });
      await expect(command.parseAsync(['cold-start', '--episodes', '1', '--seed', seed], { from: 'user' })).rejects.toThrow(`option '--seed <n>' argument '${seed}' is invalid. expected an integer from 0 to 2147483647`);
    }
  });

  it('exits with code 2 and one line, no stack trace, on a bad config from the installed command', async () => {
    const file = configFile(JSON.stringify({ warmupEpisodes: -1 }));
    const bad = await run(process.execPath, ['bin/swarmbank.js', 'scenario', 'cold-start', '--config', file]).catch((e: { code: number; stderr: string }) => e);
    expect(bad).toMatchObject({ code: 2 });
    const stderr = (bad as { stderr: string }).stderr;
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toMatch(/warmupEpisodes/);
  });
});
