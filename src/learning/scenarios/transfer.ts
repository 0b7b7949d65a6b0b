import { exportBundle, importBundle } from '../../memory/bundle.js';
import { againstCold } from './against-cold.js';
import { REFERENCE_CLAIMS, checkClaim } from './claims.js';
import { parseScenarioConfig, type TransferInput } from './config.js';
import type { ScenarioResult } from './result.js';
import { Workbench, type ScenarioRunOptions } from './workbench.js';

/**
 * The source agent learns on its own market; its patterns — all of them
 * (`full`) or those at least `minConfidence` sure (`selective`) — travel as
 * a bundle that the target validates (format, checksum, feature space,
 * every pattern's fields) before importing. The target then trains
 * `continueTraining` episodes beside a cold agent on the same episodes.
 */
export async function runTransfer(input: TransferInput = {}, options: ScenarioRunOptions = {}): Promise<ScenarioResult<'transfer'>> {
  const began = performance.now();
  const config = parseScenarioConfig('transfer', input);
  const bench = Workbench.open('transfer', config.episodeLength, options);
  try {
    const train = bench.stream('train', config.continueTraining, undefined);
    const held = bench.stream('eval', config.evalEpisodes, undefined);

    const source = await bench.agent(config.sourceAgent, config.learningRate);
    await bench.train(source, 'source', bench.stream('source', config.sourceEpisodes, undefined));
    await source.learner.commit();

    const target = await bench.agent(config.targetAgent, config.learningRate);
    const transferBegan = performance.now();
    const bundle = exportBundle(source.memory);
    const imported =
      config.transferMethod === 'full'
        ? await importBundle(target.memory, bundle, { mode: 'full', source: config.sourceAgent })
        : await importBundle(target.memory, bundle, { mode: 'selective', select: { minConfidence: config.minConfidence }, source: config.sourceAgent });
    await bench.reload(target);
    const transferMs = performance.now() - transferBegan;

    const { start, run, baseline, speedup: faster, nearOracleSpeedup: fasterNearOracle } = await againstCold(bench, target, train, held, {
      target: config.convergenceTarget,
      window: config.convergenceWindow,
      coldLearningRate: config.learningRate,
    });
    const claims = REFERENCE_CLAIMS.transfer;
    return {
      scenario: 'transfer',
      seed: bench.seed,
      config,
      ...run,
      claims: [
        checkClaim(claims.convergence, run.convergenceEpisode),
        checkClaim(claims.speedup, faster),
        // The reference's target of 0.7 is met at once on this market; how soon each gets close to the best possible tells them apart.
        checkClaim(claims.speedupNearOracle, fasterNearOracle),
        checkClaim(claims.accuracy, run.accuracy),
        checkClaim(claims.duration, transferMs / 1000),
      ],
      details: {
        baseline,
        speedup: faster,
        nearOracleSpeedup: fasterNearOracle,
        sourcePatterns: source.memory.count(),
        transferred: imported.imported.length,
        skipped: imported.skipped.length,
        transferMs,
        startAccuracy: start.accuracy,
      },
      durationMs: performance.now() - began,
    };
  } finally {
    await bench.close();
  }
}
