import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const exec = promisify(execFile);
const swarmbank = (...args: string[]) => exec(process.execPath, ['bin/swarmbank.js', ...args]).catch((e: { code: number; stdout: string; stderr: string }) => e);

describe('swarmbank', () => {
  it('prints one line for an error, and its stack trace only with --verbose', async () => {
    const plain = (await swarmbank('scenario', 'cold-start', '--config', '/no/such/config.json')) as { code: number; stderr: string };
    expect(plain.code).toBe(2);
    expect(plain.stderr).toBe('swarmbank: config file /no/such/config.json: cannot be read (ENOENT)\n');
    const verbose = (await swarmbank('scenario', 'cold-start', '--config', '/no/such/config.json', '--verbose')) as { code: number; stderr: string };
    expect(verbose.code).toBe(2);
    expect(verbose.stderr).toMatch(/^swarmbank: config file .*\nConfigFileError: config file .*\n\s+at /);
  });

  it('lists every command in --help, each with its own --help and examples', async () => {
    const { stdout } = (await swarmbank('--help')) as { stdout: string };
    for (const command of ['demo', 'run', 'compare', 'scenario', 'walk-forward', 'memory', 'doctor', 'node']) expect(stdout).toMatch(new RegExp(`\\n\\s+${command}\\b`));
    for (const command of ['run', 'compare', 'scenario', 'walk-forward', 'memory', 'doctor', 'node']) {
      const help = (await swarmbank(command, '--help')) as { stdout: string };
      expect(help.stdout, command).toMatch(/Examples?:/);
    }
  });
});

describe('swarmbank commands as installed', () => {
  it('run, scenario and walk-forward each print their metrics object with --json on a tiny config', async () => {
    const run = (await swarmbank('run', 'mesh', '--agents', '2', '--episodes', '1', '--json')) as { stdout: string };
    expect(JSON.parse(run.stdout)).toMatchObject({ topology: 'mesh', agents: 2, episodes: 1 });
    const scenario = (await swarmbank('scenario', 'continual', '--episodes', '2', '--json')) as { stdout: string };
    expect(JSON.parse(scenario.stdout)).toMatchObject({ scenario: 'continual', config: { tradingPeriod: 2 } });
    const walk = (await swarmbank('walk-forward', '--data', 'sp500', '--train-window', '504', '--test-block', '252', '--json')) as { stdout: string };
    expect(JSON.parse(walk.stdout).blocks.length).toBeGreaterThan(10);
  });
});
