import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { runSupervisionDemo } from '../../src/cli/demo.js';

const run = promisify(execFile);

describe('swarmbank demo', () => {
  it('accounts for every job: processed, or lost to an injected crash that was recorded', async () => {
    const lines: string[] = [];
    const result = await runSupervisionDemo({ seed: 5, workers: 4, jobs: 5_000, write: (line) => lines.push(line) });
    expect(result.processed + result.lostToFaults).toBe(5_000);
    expect(result.kills).toBe(1);
    expect(result.restarts).toBeGreaterThanOrEqual(1);
    expect(result.deadLetters).toBe(0);
    expect(lines.some((line) => line.startsWith('killed'))).toBe(true);
  });

  it('loses the same jobs for the same seed, however the workers interleave', async () => {
    const quiet = { workers: 4, jobs: 3_000, write: () => undefined };
    // Restart counts may differ: a kill landing inside a backoff window merges with that restart.
    const outcome = async (seed: number) => {
      const { processed, lostToFaults, kills, deadLetters } = await runSupervisionDemo({ ...quiet, seed });
      return { processed, lostToFaults, kills, deadLetters };
    };
    const first = await outcome(9);
    for (let run = 0; run < 3; run++) expect(await outcome(9)).toEqual(first);
  });

  it('runs as the installed swarmbank command and refuses a bad flag with exit code 2', async () => {
    const { stdout } = await run(process.execPath, ['bin/swarmbank.js', 'demo', '--jobs', '2000', '--seed', '2']);
    expect(stdout).toMatch(/jobs sent 2000: processed \d+, lost to injected crashes \d+/);
    const bad = await run(process.execPath, ['bin/swarmbank.js', 'demo', '--workers', 'many']).catch((e: { code: number; stderr: string }) => e);
    expect(bad).toMatchObject({ code: 2 });
    expect((bad as { stderr: string }).stderr).toMatch(/--workers/);
  });
});
