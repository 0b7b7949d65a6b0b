import { COLD_AGENT } from './config.js';
import { speedup, type CurvePoint } from './curve.js';
import { summarizeRun, type Comparison, type RunSummary } from './result.js';
import type { ScenarioAgent, Stream, Workbench } from './workbench.js';

export interface HeadStartRun extends Comparison {
  /** Evaluation before any training: what the head start alone gives. */
  readonly start: CurvePoint;
  readonly run: RunSummary;
}

/**
 * Trains an agent that was given a head start (preloaded or transferred
 * patterns) on `train`, then a cold agent on the very same episodes, and
 * compares how soon each converged — to the config's target and to 95% of
 * the oracle.
 */
export async function againstCold(
  bench: Workbench,
  agent: ScenarioAgent,
  train: Stream,
  held: Stream,
  settings: { readonly target: number; readonly window: number; readonly coldLearningRate: number },
): Promise<HeadStartRun> {
  const start = await bench.evaluate(agent, held, 0);
  const trained = await bench.trainCurve(agent, agent.id, train, held);
  const run = summarizeRun(trained.curve, settings.target, settings.window, agent.memory.count(), trained.trainingMs);
  const cold = await bench.agent(COLD_AGENT, settings.coldLearningRate);
  const coldCurve = await bench.trainCurve(cold, COLD_AGENT, train, held);
  const baseline = summarizeRun(coldCurve.curve, settings.target, settings.window, cold.memory.count(), coldCurve.trainingMs);
  return {
    start,
    run,
    baseline,
    speedup: speedup(run.convergenceEpisode, baseline.convergenceEpisode),
    nearOracleSpeedup: speedup(run.nearOracleEpisode, baseline.nearOracleEpisode),
  };
}
