import { Command } from 'commander';
import { DEFAULT_TEST_BLOCK, DEFAULT_TRAIN_WINDOW, walkForward, type WalkForwardResult } from '../learning/walk-forward.js';
import type { AccuracyReport } from '../market/outcomes.js';
import { nonNegativeNumber, positiveInteger, seed } from './arguments.js';
import { loadBars } from './data.js';
import { fixed, percent, signedPercent } from './format.js';

export interface WalkForwardCommandOptions {
  /** Where the report goes. Default: standard output. */
  readonly write?: (text: string) => void;
}

interface Flags {
  readonly data: string;
  readonly trainWindow: number;
  readonly testBlock: number;
  readonly cost: number;
  readonly seed: number;
  readonly json?: boolean;
}

/**
 * `swarmbank walk-forward`: the walk-forward evaluation on the S&P 500 or an
 * OHLCV CSV, printed as a table or, with `--json`, as the result object
 * alone. Errors are thrown, typed, for the caller to print.
 */
export function walkForwardCommand(options: WalkForwardCommandOptions = {}): Command {
  const write = options.write ?? ((text: string) => process.stdout.write(text));
  return new Command('walk-forward')
    .description('Train on a rolling past window, predict the next unseen block, and report accuracy, return and Sharpe beside the baselines.')
    .option('--data <sp500|path.csv>', 'the S&P 500 daily series from vega-datasets, or an OHLCV CSV file', 'sp500')
    .option('--train-window <bars>', 'bars of the rolling training window', positiveInteger, DEFAULT_TRAIN_WINDOW)
    .option('--test-block <bars>', 'bars predicted per block, learning off', positiveInteger, DEFAULT_TEST_BLOCK)
    .option('--cost <bps>', 'trading cost per unit of exposure changed, in basis points', nonNegativeNumber, 0)
    .option('--seed <n>', 'seed recorded with the result', seed, 1)
    .option('--json', 'print the result object alone, as JSON')
    .addHelpText('after', '\nExamples:\n  swarmbank walk-forward\n  swarmbank walk-forward --data prices.csv --train-window 504 --test-block 21 --cost 5 --json')
    .action(async (flags: Flags) => {
      const bars = await loadBars(flags.data);
      const result = await walkForward(bars, { trainWindow: flags.trainWindow, testBlock: flags.testBlock, costBps: flags.cost, seed: flags.seed });
      write(flags.json === true ? `${JSON.stringify(result, null, 2)}\n` : formatWalkForward(result, flags.data));
    });
}

/** The report as printed: one line per block, then the overall and trading lines. Every figure is read from `result`. */
export function formatWalkForward(result: WalkForwardResult, data: string): string {
  const { overall, trading } = result;
  const lines = [
    `walk-forward on ${data}: ${result.bars} bars, ${result.blocks.length} blocks of ${result.testBlock} bars, each trained on the ${result.trainWindow} bars before it ` +
      `(horizon ${result.horizon}, cost ${result.costBps} bps, seed ${result.seed})`,
    '',
    `${'block'.padStart(5)}  ${'tested'.padEnd(23)}  ${'decided'.padStart(9)}  ${'accuracy'.padStart(8)}  ${'always-long'.padStart(11)}  ${'majority(train)'.padStart(15)}  ${'majority(peek)'.padStart(14)}`,
    ...result.blocks.map(
      (block) =>
        `${String(block.index + 1).padStart(5)}  ${`${day(block.firstTime)} … ${day(block.lastTime)}`.padEnd(23)}  ${`${block.decided}/${block.steps}`.padStart(9)}  ` +
        `${accuracy(block).padStart(8)}  ${accuracy(block.alwaysLong).padStart(11)}  ${`${accuracy(block.majorityTrain)} ${block.trainMajority}`.padStart(15)}  ${accuracy(block.majorityPeek).padStart(14)}`,
    ),
    '',
    `overall: accuracy ${accuracy(overall)} (${overall.decided} of ${overall.steps} steps decided, ${percent(overall.decidedFraction)}) | ` +
      `always-long ${accuracy(overall.alwaysLong)} | majority(train) ${accuracy(overall.majorityTrain)} | majority(peek) ${accuracy(overall.majorityPeek)} | ${result.blocks.length} blocks`,
    `trading: strategy return ${signedPercent(trading.strategy.totalReturn)}, Sharpe ${fixed(trading.strategy.sharpe, 2)}, max drawdown ${percent(trading.strategy.maxDrawdown)}, ${trading.strategy.trades} trades | ` +
      `buy-and-hold return ${signedPercent(trading.buyAndHold.totalReturn)}, Sharpe ${fixed(trading.buyAndHold.sharpe, 2)}, max drawdown ${percent(trading.buyAndHold.maxDrawdown)} | ${trading.strategy.steps} bars`,
    'accuracy = correct ÷ decided, learning off; majority(train) calls each block the majority outcome of its training window;',
    "majority(peek) calls each block its own majority outcome: it sees the answers, so it bounds any constant call and is no strategy.",
  ];
  return `${lines.join('\n')}\n`;
}

function day(time: number): string {
  return new Date(time).toISOString().slice(0, 10);
}

function accuracy(report: AccuracyReport): string {
  return fixed(report.accuracy, 3);
}
