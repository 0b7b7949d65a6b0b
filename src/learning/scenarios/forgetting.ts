import { TASK_A, TASK_B } from '../../market/tasks.js';
import { consolidate } from '../../memory/consolidation.js';
import { distill } from '../../memory/distill.js';
import { REFERENCE_CLAIMS, checkClaim } from './claims.js';
import { parseScenarioConfig, type ForgettingConfig, type ForgettingInput } from './config.js';
import type { CurvePoint } from './curve.js';
import { summarizeRun, type ForgettingRun, type ScenarioResult } from './result.js';
import { Workbench, type ScenarioRunOptions, type Stream } from './workbench.js';

/**
 * Distillation merges near-duplicates of the same outcome and condition and
 * prunes what is no better than a coin: a pattern under 0.5 confidence votes
 * against its own outcome, which its opposite twin already does.
 */
const DISTILL_MIN_CONFIDENCE = 0.5;

/**
 * Task A (momentum), then task B (mean reversion, A's opposite on most
 * bars), on the same agent. Retention = accuracy on held-out A episodes
 * after B ÷ before B. The run is made twice on the same episodes: protected
 * as configured (consolidation of A's best patterns before B; distillation
 * every `distillationInterval` episodes) and unprotected (neither), so the
 * report shows what protection prevents and what it costs.
 */
export async function runForgetting(input: ForgettingInput = {}, options: ScenarioRunOptions = {}): Promise<ScenarioResult<'forgetting'>> {
  const began = performance.now();
  const config = parseScenarioConfig('forgetting', input);
  const bench = Workbench.open('forgetting', config.episodeLength, options);
  try {
    const inverted = config.taskB === 'inverted';
    const b = inverted ? TASK_A : TASK_B;
    const streams: TaskStreams = {
      trainA: bench.stream('task-a', config.taskEpisodes, TASK_A),
      trainB: taskB(bench.stream('task-b', config.taskEpisodes, b), inverted),
      heldA: bench.stream('eval-a', config.evalEpisodes, TASK_A),
      heldB: taskB(bench.stream('eval-b', config.evalEpisodes, b), inverted),
    };
    const guarded = await runTasks(bench, streams, config, 'protected', config.memoryConsolidation, true);
    const bare = await runTasks(bench, streams, config, 'unprotected', false, false);
    const run = summarizeRun(guarded.curve, config.retentionTarget, config.convergenceWindow, guarded.run.patterns, guarded.trainingMs);
    const memoryReduction = bare.run.patterns === 0 ? 0 : 1 - guarded.run.patterns / bare.run.patterns;
    const bytesReduction = bare.run.bytes === 0 ? 0 : 1 - guarded.run.bytes / bare.run.bytes;
    const claims = REFERENCE_CLAIMS.forgetting;
    return {
      scenario: 'forgetting',
      seed: bench.seed,
      config,
      ...run,
      claims: [
        checkClaim(claims.retention, guarded.run.retention),
        checkClaim(claims.prevented, guarded.run.retention - bare.run.retention),
        checkClaim(claims.memory, memoryReduction),
      ],
      details: {
        protected: guarded.run,
        unprotected: bare.run,
        memoryReduction,
        bytesReduction,
        retentionTargetMet: guarded.run.retention >= config.retentionTarget,
      },
      durationMs: performance.now() - began,
    };
  } finally {
    await bench.close();
  }
}

function taskB(stream: Stream, inverted: boolean): Stream {
  return inverted ? { ...stream, inverted: true } : stream;
}

interface TaskStreams {
  readonly trainA: Stream;
  readonly trainB: Stream;
  readonly heldA: Stream;
  readonly heldB: Stream;
}

interface TasksOutcome {
  readonly run: ForgettingRun;
  /** Accuracy on A while training on A, then on B while training on B, numbered on. */
  readonly curve: CurvePoint[];
  readonly trainingMs: number;
}

async function runTasks(
  bench: Workbench,
  streams: TaskStreams,
  config: ForgettingConfig,
  name: string,
  consolidation: boolean,
  distillation: boolean,
): Promise<TasksOutcome> {
  const agent = await bench.agent(name, config.learningRate);
  let distillations = 0;
  const maybeDistill = async (episode: number): Promise<void> => {
    if (!distillation || episode % config.distillationInterval !== 0) return;
    await agent.learner.commit();
    await distill(agent.memory, { similarity: config.distillSimilarity, minSupport: config.distillMinSupport, minConfidence: DISTILL_MIN_CONFIDENCE });
    distillations++;
    await bench.reload(agent);
  };

  const onA = await bench.trainCurve(agent, `${name}:task-a`, streams.trainA, streams.heldA, maybeDistill);
  const before = await bench.evaluate(agent, streams.heldA, config.taskEpisodes);

  let consolidated = 0;
  if (consolidation) {
    await agent.learner.commit();
    consolidated = (await consolidate(agent.memory, { topFraction: config.consolidateFraction })).consolidated.length;
    await bench.reload(agent);
  }

  const taskADuringB: CurvePoint[] = [];
  const onB = await bench.trainCurve(agent, `${name}:task-b`, streams.trainB, streams.heldB, async (episode) => {
    await maybeDistill(episode);
    taskADuringB.push(await bench.evaluate(agent, streams.heldA, episode));
  });
  await agent.learner.commit();
  const after = taskADuringB.at(-1) ?? (await bench.evaluate(agent, streams.heldA, 0));
  const afterB = onB.curve.at(-1);

  const offset = config.taskEpisodes;
  return {
    run: {
      consolidation,
      distillation,
      taskABefore: before.accuracy,
      taskAAfter: after.accuracy,
      taskBAfter: afterB?.accuracy ?? Number.NaN,
      retention: after.accuracy / before.accuracy,
      meanRetentionDuringB: meanOf(taskADuringB.map((p) => p.accuracy)) / before.accuracy,
      taskADuringB,
      consolidated,
      distillations,
      patterns: agent.memory.count(),
      bytes: agent.memory.bytesUsed().patterns,
    },
    curve: [...onA.curve, ...onB.curve.map((p) => ({ ...p, episode: p.episode + offset }))],
    trainingMs: onA.trainingMs + onB.trainingMs,
  };
}

function meanOf(values: readonly number[]): number {
  const finite = values.filter(Number.isFinite);
  return finite.length === 0 ? Number.NaN : finite.reduce((a, b) => a + b, 0) / finite.length;
}
