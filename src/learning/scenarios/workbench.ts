import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DEFAULT_ASSETS } from '../../market/assets.js';
import { simulateMarket } from '../../market/simulator.js';
import type { MarketTask } from '../../market/tasks.js';
import { openPatternMemory, type PatternMemory } from '../../memory/store.js';
import { assertSeed, createRandom, type Random } from '../../random.js';
import { runEpisode, episodeStarts, featureSeries, type FeatureSeries } from '../episode.js';
import { featureSpace, type FeatureSpace } from '../features.js';
import { PatternLearner } from '../learner.js';
import type { ScenarioName } from './config.js';
import type { CurvePoint } from './curve.js';

export interface ScenarioRunOptions {
  /** Everything random in the run derives from it. Default 1. */
  readonly seed?: number;
  /**
   * Where the agents' pattern memories go (one directory per agent, under
   * `<dataDir>/<scenario>-<seed>`), kept after the run. Default: a temporary
   * directory removed when the run ends.
   */
  readonly dataDir?: string;
  /** Called after every evaluation, for progress bars. */
  readonly onProgress?: (progress: ScenarioProgress) => void;
}

export interface ScenarioProgress {
  readonly scenario: ScenarioName;
  /** Which run of the scenario: `cold`, `warm`, `source`, `task-a`… */
  readonly phase: string;
  readonly episode: number;
  readonly of: number;
  readonly accuracy: number;
}

/** A stream of bars prepared for episodes, and where its episodes start. */
export interface Stream {
  readonly series: FeatureSeries;
  readonly starts: readonly number[];
  /** Its episodes score and teach the opposite of every outcome (see `EpisodeOptions.invert`). */
  readonly inverted?: boolean;
}

export interface TrainedCurve {
  readonly curve: CurvePoint[];
  /** Time spent training (and in `between`), evaluations excluded. */
  readonly trainingMs: number;
}

/** An agent of a scenario: a learner over its own pattern memory on LMDB. */
export interface ScenarioAgent {
  readonly id: string;
  readonly memory: PatternMemory;
  learner: PatternLearner;
  readonly learningRate: number;
}

/**
 * What every scenario needs: seeded markets, a fixed held-out evaluation
 * set, agents with their memories on disk, and the train-then-evaluate loop
 * that draws the learning curve. One asset (ALPHA of the default basket)
 * keeps runs short; the simulator's other assets share its dynamics.
 */
export class Workbench {
  readonly space: FeatureSpace = featureSpace();
  private readonly agents: ScenarioAgent[] = [];
  private readonly random: Random;

  private constructor(
    readonly scenario: ScenarioName,
    readonly seed: number,
    readonly episodeLength: number,
    private readonly dir: string,
    private readonly temporary: boolean,
    private readonly onProgress: ScenarioRunOptions['onProgress'],
  ) {
    this.random = createRandom(seed);
  }

  static open(scenario: ScenarioName, episodeLength: number, options: ScenarioRunOptions): Workbench {
    const seed = options.seed ?? 1;
    assertSeed(seed);
    const temporary = options.dataDir === undefined;
    const dir = temporary
      ? fs.mkdtempSync(path.join(os.tmpdir(), `swarmbank-${scenario}-`))
      : path.join(options.dataDir!, `${scenario}-${seed}`);
    if (!temporary) {
      fs.rmSync(dir, { recursive: true, force: true });
      fs.mkdirSync(dir, { recursive: true });
    }
    return new Workbench(scenario, seed, episodeLength, dir, temporary, options.onProgress);
  }

  /**
   * A market stream long enough for `episodes` episodes (and `extraBars`
   * more after them), from its own seed
   * derived from the run's seed and `label`: the same label gives the same
   * bars, different labels give independent markets with the same dynamics.
   */
  stream(label: string, episodes: number, task: MarketTask | undefined, extraBars = 0): Stream {
    const length = this.space.lookback + episodes * this.episodeLength + extraBars + 1;
    const market = simulateMarket({
      seed: this.random.fork(`market:${label}`).int(0, 2 ** 31 - 1),
      length,
      assets: [DEFAULT_ASSETS[0]!],
      ...(task ?? {}),
    });
    const asset = market.assets[0]!;
    const series = featureSeries(asset.bars, this.space, asset.latent);
    return { series, starts: episodeStarts(series, { length: this.episodeLength }).slice(0, episodes) };
  }

  async agent(id: string, learningRate: number): Promise<ScenarioAgent> {
    const memory = await openPatternMemory({ path: path.join(this.dir, id), dimensions: this.space.dimensions, featureSpaceId: this.space.id });
    const learner = await PatternLearner.open({ space: this.space, memory, agentId: id, learningRate });
    const agent: ScenarioAgent = { id, memory, learner, learningRate };
    this.agents.push(agent);
    return agent;
  }

  /** Rebuilds the agent's learner from its memory: after an import, a consolidation or a distillation changed what is stored. */
  async reload(agent: ScenarioAgent): Promise<void> {
    await agent.learner.commit();
    agent.learner.close();
    agent.learner = await PatternLearner.open({ space: this.space, memory: agent.memory, agentId: agent.id, learningRate: agent.learningRate });
  }

  /** Evaluation accuracy on every episode of `held`, learning off, pooled over all their steps. */
  async evaluate(agent: ScenarioAgent, held: Stream, episode: number): Promise<CurvePoint> {
    let decided = 0;
    let correct = 0;
    let steps = 0;
    let oracleDecided = 0;
    let oracleCorrect = 0;
    for (const start of held.starts) {
      const result = await runEpisode(agent.learner, held.series, { start, length: this.episodeLength, mode: 'eval', invert: held.inverted === true });
      decided += result.decided;
      correct += result.correct;
      steps += result.steps;
      oracleDecided += result.oracle?.decided ?? 0;
      oracleCorrect += result.oracle?.correct ?? 0;
    }
    return {
      episode,
      accuracy: decided === 0 ? Number.NaN : correct / decided,
      oracleAccuracy: oracleDecided === 0 ? Number.NaN : oracleCorrect / oracleDecided,
      decidedFraction: steps === 0 ? 0 : decided / steps,
      patterns: agent.learner.size,
    };
  }

  /**
   * Trains on the episodes of `train` in order (each commits to the agent's
   * memory) and evaluates on `held` after each: the learning curve.
   * `between` runs after each episode's training, before its evaluation.
   */
  async trainCurve(
    agent: ScenarioAgent,
    phase: string,
    train: Stream,
    held: Stream,
    between?: (episode: number) => Promise<void>,
  ): Promise<TrainedCurve> {
    const curve: CurvePoint[] = [];
    let trainingMs = 0;
    for (const [index, start] of train.starts.entries()) {
      const episode = index + 1;
      const began = performance.now();
      await runEpisode(agent.learner, train.series, { start, length: this.episodeLength, mode: 'train', episode, invert: train.inverted === true });
      await between?.(episode);
      trainingMs += performance.now() - began;
      const point = await this.evaluate(agent, held, episode);
      curve.push(point);
      this.onProgress?.({ scenario: this.scenario, phase, episode, of: train.starts.length, accuracy: point.accuracy });
    }
    return { curve, trainingMs };
  }

  /** Trains on every episode of `train`, no evaluation: for agents whose knowledge others use. */
  async train(agent: ScenarioAgent, phase: string, train: Stream): Promise<void> {
    for (const [index, start] of train.starts.entries()) {
      const result = await runEpisode(agent.learner, train.series, { start, length: this.episodeLength, mode: 'train', episode: index + 1, invert: train.inverted === true });
      this.onProgress?.({ scenario: this.scenario, phase, episode: index + 1, of: train.starts.length, accuracy: result.accuracy });
    }
  }

  progress(phase: string, episode: number, of: number, accuracy: number): void {
    this.onProgress?.({ scenario: this.scenario, phase, episode, of, accuracy });
  }

  async close(): Promise<void> {
    for (const agent of this.agents.splice(0)) {
      agent.learner.close();
      await agent.memory.close();
    }
    if (this.temporary) fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
