import { oraclePrediction } from '../../market/oracle.js';
import { outcomeDirection } from '../../market/outcomes.js';
import { buyAndHold, predictionExposure, TradingLedger, type TradingSummary } from '../trading.js';
import { REFERENCE_CLAIMS, checkClaim } from './claims.js';
import { parseScenarioConfig, type ContinualConfig, type ContinualInput } from './config.js';
import type { CurvePoint } from './curve.js';
import { summarizeRun, type ScenarioResult } from './result.js';
import { Workbench, type ScenarioAgent, type ScenarioRunOptions, type Stream } from './workbench.js';

/** DESIGN.md's default target, for the convergence of the daily curve: the continual config has none of its own. */
const CONVERGENCE_TARGET = 0.7;

/**
 * Learning while trading. An agent pretrains on `pretrainEpisodes` episodes
 * of history, then trades `tradingPeriod` days of `tradesPerDay` bars that
 * follow it: at each bar it takes a position from its prediction, holds it
 * for one bar (paying `costBps` per unit of exposure changed), and — with
 * `onlineLearning` — learns the outcome before the next bar, committing to
 * its memory at the end of each day. Its learning curve is the accuracy of
 * each day's calls, so here accuracy is measured on the trading itself: each
 * bar is unseen when it is called. A twin agent with the same pretraining
 * trades the same days with learning off, to show what learning while
 * trading adds.
 */
export async function runContinual(input: ContinualInput = {}, options: ScenarioRunOptions = {}): Promise<ScenarioResult<'continual'>> {
  const began = performance.now();
  const config = parseScenarioConfig('continual', input);
  const bench = Workbench.open('continual', config.episodeLength, options);
  try {
    const days = config.tradingPeriod;
    const stream = bench.stream('market', config.pretrainEpisodes, undefined, days * config.tradesPerDay);
    const history: Stream = { series: stream.series, starts: stream.starts };
    const firstTradingBar = bench.space.lookback - 1 + config.pretrainEpisodes * config.episodeLength;

    const online = await bench.agent('online', config.learningRate);
    await bench.train(online, 'pretrain', history);
    const live = await trade(bench, online, stream, firstTradingBar, config, config.onlineLearning, 'trading');

    const twin = await bench.agent('frozen', config.learningRate);
    await bench.train(twin, 'pretrain-frozen', history);
    const frozen = await trade(bench, twin, stream, firstTradingBar, config, false, 'frozen');

    const half = Math.floor(days / 2);
    const earlyAccuracy = pooled(live.days.slice(0, half));
    const lateAccuracy = pooled(live.days.slice(half));
    const curve = live.curve;
    const run = summarizeRun(curve, CONVERGENCE_TARGET, config.convergenceWindow, online.memory.count(), live.ms);
    const accuracy = pooled(live.days);
    const oracleAccuracy = live.oracle.decided === 0 ? Number.NaN : live.oracle.correct / live.oracle.decided;
    const tradedBars = stream.series.bars.slice(firstTradingBar, firstTradingBar + days * config.tradesPerDay + 1);
    const claims = REFERENCE_CLAIMS.continual;
    return {
      scenario: 'continual',
      seed: bench.seed,
      config,
      ...run,
      accuracy,
      oracleAccuracy,
      accuracyVsOracle: accuracy / oracleAccuracy,
      claims: [
        checkClaim(claims.accuracy, accuracy),
        checkClaim(claims.return, live.trading.totalReturn),
        checkClaim(claims.plateau, lateAccuracy - earlyAccuracy),
      ],
      details: {
        days,
        trading: live.trading,
        buyAndHold: summary(buyAndHold(tradedBars, { costBps: config.costBps })),
        frozen: { accuracy: pooled(frozen.days), trading: frozen.trading },
        earlyAccuracy,
        lateAccuracy,
      },
      durationMs: performance.now() - began,
    };
  } finally {
    await bench.close();
  }
}

interface DayTally {
  readonly decided: number;
  readonly correct: number;
}

interface TradingRun {
  readonly days: readonly DayTally[];
  readonly curve: CurvePoint[];
  readonly trading: TradingSummary;
  readonly oracle: DayTally;
  readonly ms: number;
}

async function trade(
  bench: Workbench,
  agent: ScenarioAgent,
  stream: Stream,
  firstBar: number,
  config: ContinualConfig,
  learn: boolean,
  phase: string,
): Promise<TradingRun> {
  const { bars, features, latent } = stream.series;
  const ledger = new TradingLedger({ costBps: config.costBps });
  const days: DayTally[] = [];
  const curve: CurvePoint[] = [];
  let oracleDecided = 0;
  let oracleCorrect = 0;
  const began = performance.now();
  for (let day = 0; day < config.tradingPeriod; day++) {
    let decided = 0;
    let correct = 0;
    let dayOracleDecided = 0;
    let dayOracleCorrect = 0;
    for (let t = 0; t < config.tradesPerDay; t++) {
      const i = firstBar + day * config.tradesPerDay + t;
      const vector = features[i]!;
      const prediction = agent.learner.predict(vector);
      ledger.step(predictionExposure(prediction), bars[i]!, bars[i + 1]!);
      const outcome = outcomeDirection(bars, i, 1);
      if (prediction.direction !== 0 && outcome !== 0) {
        decided++;
        if (prediction.direction === outcome) correct++;
      }
      const call = latent === undefined ? 0 : oraclePrediction(latent[i]!, 1);
      if (call !== 0 && outcome !== 0) {
        dayOracleDecided++;
        if (call === outcome) dayOracleCorrect++;
      }
      if (learn) agent.learner.learn(vector, outcome);
    }
    if (learn) await agent.learner.commit();
    days.push({ decided, correct });
    oracleDecided += dayOracleDecided;
    oracleCorrect += dayOracleCorrect;
    const accuracy = decided === 0 ? Number.NaN : correct / decided;
    curve.push({
      episode: day + 1,
      accuracy,
      oracleAccuracy: dayOracleDecided === 0 ? Number.NaN : dayOracleCorrect / dayOracleDecided,
      decidedFraction: decided / config.tradesPerDay,
      patterns: agent.learner.size,
    });
    bench.progress(phase, day + 1, config.tradingPeriod, accuracy);
  }
  return { days, curve, trading: ledger.summary(), oracle: { decided: oracleDecided, correct: oracleCorrect }, ms: performance.now() - began };
}

function pooled(days: readonly DayTally[]): number {
  const decided = days.reduce((n, d) => n + d.decided, 0);
  return decided === 0 ? Number.NaN : days.reduce((n, d) => n + d.correct, 0) / decided;
}

function summary(report: TradingSummary): TradingSummary {
  const { steps, equity, totalReturn, sharpe, maxDrawdown, trades, turnover, hitRate } = report;
  return { steps, equity, totalReturn, sharpe, maxDrawdown, trades, turnover, hitRate };
}
