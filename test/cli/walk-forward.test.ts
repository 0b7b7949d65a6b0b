import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CommanderError } from 'commander';
import { afterEach, describe, expect, it } from 'vitest';
import { formatWalkForward, walkForwardCommand } from '../../src/cli/walk-forward.js';
import { walkForward } from '../../src/learning/walk-forward.js';
import type { Bar } from '../../src/market/bars.js';
import { loadSp500 } from '../../src/market/sp500.js';
import { randomWalk } from '../learning/support.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

function csvOf(bars: readonly Bar[]): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'swarmbank-walk-forward-'));
  dirs.push(dir);
  const file = path.join(dir, 'bars.csv');
  const rows = bars.map((b) => [new Date(b.time).toISOString().slice(0, 10), b.open, b.high, b.low, b.close, b.volume].join(','));
  fs.writeFileSync(file, ['date,open,high,low,close,volume', ...rows].join('\n'));
  return file;
}

/** Runs the command as the `swarmbank` program would, collecting what it writes. */
async function run(...args: string[]): Promise<string> {
  let out = '';
  const command = walkForwardCommand({ write: (text) => (out += text) })
    .exitOverride()
    .configureOutput({ writeErr: () => undefined });
  await command.parseAsync(args, { from: 'user' });
  return out;
}

describe('swarmbank walk-forward', () => {
  it('prints the result object alone as JSON with --json, the same as walkForward on the same bars', async () => {
    const bars = randomWalk(4, 1_200);
    const out = await run('--data', csvOf(bars), '--train-window', '300', '--test-block', '50', '--cost', '2.5', '--seed', '9', '--json');
    const expected = await walkForward(bars, { trainWindow: 300, testBlock: 50, costBps: 2.5, seed: 9 });
    expect(JSON.parse(out)).toEqual(JSON.parse(JSON.stringify(expected)));
  });

  it('prints a table of the S&P 500 run whose every figure is the measured one', async () => {
    const out = await run('--train-window', '504', '--test-block', '126');
    const result = await walkForward((await loadSp500()).bars, { trainWindow: 504, testBlock: 126 });
    expect(out).toBe(formatWalkForward(result, 'sp500'));
    const { overall, trading } = result;
    const lines = out.split('\n');
    const summary = lines.find((line) => line.startsWith('overall:'))!;
    expect(summary).toContain(`accuracy ${overall.accuracy.toFixed(3)} (${overall.decided} of ${overall.steps} steps decided`);
    expect(summary).toContain(`always-long ${overall.alwaysLong.accuracy.toFixed(3)}`);
    expect(summary).toContain(`majority(train) ${overall.majorityTrain.accuracy.toFixed(3)}`);
    expect(summary).toContain(`majority(peek) ${overall.majorityPeek.accuracy.toFixed(3)}`);
    expect(summary).toContain(`${result.blocks.length} blocks`);
    const money = lines.find((line) => line.startsWith('trading:'))!;
    expect(money).toContain(`Sharpe ${trading.strategy.sharpe.toFixed(2)}, max drawdown ${(trading.strategy.maxDrawdown * 100).toFixed(1)}%`);
    expect(money).toContain(`buy-and-hold return ${trading.buyAndHold.totalReturn >= 0 ? '+' : ''}${(trading.buyAndHold.totalReturn * 100).toFixed(1)}%`);
    expect(lines.filter((line) => /^ +\d+ {2}\d{4}-\d{2}-\d{2} … \d{4}-\d{2}-\d{2}/.test(line))).toHaveLength(result.blocks.length);
    expect(lines[0]).toMatch(/^walk-forward on sp500: 5105 bars, \d+ blocks of 126 bars, each trained on the 504 bars before it/);
  });

  it('prints n/a where nothing was measured, never NaN', async () => {
    const never = await walkForward(randomWalk(1, 1_000), {
      trainWindow: 300,
      testBlock: 100,
      learner: (space) => ({
        featureSpaceId: space.id,
        predict: () => ({ direction: 0, confidence: 0, position: 'flat' }),
        learn: () => ({ created: [], updated: [] }),
        exportPatterns: () => [],
      }),
    });
    const out = formatWalkForward(never, 'walk.csv');
    expect(out).not.toMatch(/NaN/);
    expect(out).toMatch(/overall: accuracy n\/a \(0 of \d+ steps decided, 0\.0%\)/);
    expect(out).toMatch(/strategy return \+0\.0%, Sharpe n\/a/);
  });

  it('throws the typed data errors: a bad CSV, a file that is not there, a series too short', async () => {
    await expect(run('--data', 'test/market/fixtures/ohlcv-bad-rows.csv')).rejects.toMatchObject({ name: 'CsvFormatError', code: 'CSV_BAD_ROWS' });
    await expect(run('--data', 'no/such/prices.csv')).rejects.toMatchObject({ name: 'DatasetUnavailableError', code: 'DATASET_UNAVAILABLE', dataset: 'no/such/prices.csv' });
    await expect(run('--data', 'test/market/fixtures/ohlcv-sample.csv')).rejects.toMatchObject({ name: 'WalkForwardOptionsError', option: 'bars' });
  });

  it('refuses a malformed flag before loading anything', async () => {
    for (const args of [['--train-window', 'three years'], ['--test-block', '0'], ['--cost', '-1'], ['--seed', '1.5']]) {
      const error = await run(...args).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CommanderError);
      expect(error).toMatchObject({ code: 'commander.invalidArgument' });
    }
  });
});
