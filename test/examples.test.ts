import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);

/** Each example as a user runs it: a child process through tsx, importing the package by its name. */
function example(file: string, ...args: string[]) {
  return run(process.execPath, ['--import', 'tsx', `examples/${file}`, ...args], { timeout: 120_000 });
}

describe('examples', () => {
  it('decide-service trains a mesh, answers POST /decide with the consensus, refuses a bad request with 400, and serves /metrics', async () => {
    const { stdout } = await example('decide-service.ts', '--smoke');
    expect(stdout).toMatch(/decide 200 \{"direction":-?[01],"votes":\{"up":\d,"down":\d,"flat":\d\},"live":5,"threshold":0\.67,"position":"(long|short|flat)"\}/);
    expect(stdout).toMatch(/bad request 400 \{"error":"need at least 41 bars, got 3"\}/);
    expect(stdout).toMatch(/metrics 200 swarmbank_agents\{topology="mesh"\} 5/);
  });

  it('custom-learner runs a mesh with the default learner and with the user’s logistic learner, each heard by the user’s auditor actor', async () => {
    const { stdout } = await example('custom-learner.ts', '--episodes', '3');
    expect(stdout).toMatch(/pattern learner \(default\): accuracy \d+\.\d% .*auditor: 3 episodes heard/);
    expect(stdout).toMatch(/logistic learner \(yours\): accuracy \d+\.\d% .*auditor: 3 episodes heard/);
  });
});
