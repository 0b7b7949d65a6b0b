import { REFERENCE_CLAIMS, checkClaim } from './claims.js';
import { parseScenarioConfig, type ColdStartInput } from './config.js';
import { summarizeRun, type ScenarioResult } from './result.js';
import { Workbench, type ScenarioRunOptions } from './workbench.js';

/** An agent with an empty memory trains on one market and is evaluated on held-out episodes of another with the same dynamics. */
export async function runColdStart(input: ColdStartInput = {}, options: ScenarioRunOptions = {}): Promise<ScenarioResult<'cold-start'>> {
  const began = performance.now();
  const config = parseScenarioConfig('cold-start', input);
  const bench = Workbench.open('cold-start', config.episodeLength, options);
  try {
    const train = bench.stream('train', config.warmupEpisodes, undefined);
    const held = bench.stream('eval', config.evalEpisodes, undefined);
    const agent = await bench.agent('cold', config.learningRate);
    const { curve, trainingMs } = await bench.trainCurve(agent, 'cold', train, held);
    const run = summarizeRun(curve, config.convergenceTarget, config.convergenceWindow, agent.memory.count(), trainingMs);
    const claims = REFERENCE_CLAIMS['cold-start'];
    return {
      scenario: 'cold-start',
      seed: bench.seed,
      config,
      ...run,
      claims: [checkClaim(claims.convergence, run.convergenceEpisode), checkClaim(claims.accuracy, run.accuracy), checkClaim(claims.duration, trainingMs / 1000)],
      details: {},
      durationMs: performance.now() - began,
    };
  } finally {
    await bench.close();
  }
}
