import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { stateless } from '../actors/behaviour.js';
import type { FaultPlan, FaultPlanRun } from '../actors/faults.js';
import type { AnyActorRef } from '../actors/ref.js';
import { createRuntime, type Runtime } from '../actors/runtime.js';
import { ownedMemoryClosed } from '../agents/owned-memory.js';
import { featureSpace } from '../learning/features.js';
import { convergenceEpisode, type CurvePoint } from '../learning/scenarios/curve.js';
import { openLmdbPersistence, type LmdbPersistence } from '../memory/persistence-engine.js';
import { assertSeed } from '../random.js';
import type { TopologyConfigs, TopologyName } from './config.js';
import type { AgentReport, Deployment, DeploymentMetrics, DeployOptions, RunOptions, TopologyMetrics } from './deployment.js';
import { mergeScores, scoreCalls, tallyVotes, type VoteTally } from './evaluation.js';
import { DeploymentEvents } from './events.js';
import { MarketFeed } from './market-feed.js';
import { Swarm, type AgentAddress } from './swarm.js';

/** DESIGN.md's convergence: the rolling mean of 5 evaluations reaches 0.7. */
const CONVERGENCE_TARGET = 0.7;
const CONVERGENCE_WINDOW = 5;

/** Who votes in `voteEvaluation` besides the live local agents, and how many voters make a quorum. */
export interface VoteOptions {
  /** Agents elsewhere (on other nodes) that vote too. */
  readonly remoteVoters?: readonly AgentAddress[];
  /** Fewer answering voters than this and every step abstains. Default 0. */
  readonly quorum?: number;
}

/** What a topology is built from; `SwarmDeployment.prepare` makes it. */
export interface DeploymentParts {
  readonly seed: number;
  readonly runtime: Runtime;
  readonly persistence: LmdbPersistence;
  readonly events: DeploymentEvents;
  readonly swarm: Swarm;
  readonly feed: MarketFeed;
  /** The topology's own actor: the parent, and so the supervisor, of its agents. */
  readonly root: AnyActorRef;
  readonly dataDir: string;
  readonly temporary: boolean;
}

/**
 * The part every topology shares: one runtime per deployment with an LMDB
 * journal for its persistent actors, a supervising actor named for the
 * topology (so fault plans address `/<topology>/<agent>`), the agents'
 * memories under one data directory, the market feed, and the run loop —
 * train a round, evaluate on held-out episodes, extend the learning curve.
 * A topology supplies the round, the evaluation and its own figures.
 */
export abstract class SwarmDeployment<T extends TopologyName> implements Deployment<T> {
  readonly seed: number;
  readonly events: DeploymentEvents;
  readonly runtime: Runtime;
  protected readonly swarm: Swarm;
  protected readonly feed: MarketFeed;
  protected readonly root: AnyActorRef;
  protected readonly curve: CurvePoint[] = [];
  protected episodesRun = 0;
  private wallMs = 0;
  private stopped = false;

  protected constructor(
    readonly topology: T,
    readonly config: TopologyConfigs[T],
    private readonly parts: DeploymentParts,
  ) {
    ({ seed: this.seed, events: this.events, runtime: this.runtime, swarm: this.swarm, feed: this.feed, root: this.root } = parts);
  }

  /**
   * Everything that can be checked or computed is done before anything is
   * opened; if opening fails part-way, what was opened is closed and a
   * temporary directory removed, in the background since closing is
   * asynchronous, and the failure is rethrown.
   */
  static prepare(topology: TopologyName, options: DeployOptions): DeploymentParts {
    const seed = options.seed ?? 1;
    assertSeed(seed);
    const space = featureSpace();
    const feed = new MarketFeed(space, options.market ?? {}, seed, options.maxEpisodes ?? 200);
    const temporary = options.dataDir === undefined;
    const dataDir = options.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), `swarmbank-${topology}-`));
    const opened: { persistence?: LmdbPersistence; runtime?: Runtime; swarm?: Swarm } = {};
    try {
      fs.mkdirSync(dataDir, { recursive: true });
      const persistence = (opened.persistence = openLmdbPersistence({ path: path.join(dataDir, 'journal') }));
      const runtime = (opened.runtime = createRuntime({ name: topology, persistence, seed }));
      const events = new DeploymentEvents();
      const swarm = (opened.swarm = new Swarm({
        runtime,
        space,
        dataDir,
        events,
        askTimeoutMs: options.askTimeoutMs ?? 30_000,
        ...(options.learner === undefined ? {} : { learner: options.learner }),
      }));
      const root = runtime.spawn(runtime.root, stateless<never>(() => undefined), { name: topology });
      return { seed, runtime, persistence, events, swarm, feed, root, dataDir, temporary };
    } catch (error) {
      void undoPrepare(opened, temporary ? dataDir : undefined);
      throw error;
    }
  }

  async run(options: RunOptions): Promise<DeploymentMetrics<T>> {
    const { episodes } = options;
    if (!Number.isSafeInteger(episodes) || episodes < 1) throw new RangeError(`episodes must be a positive integer, got ${episodes}`);
    const began = performance.now();
    for (let i = 0; i < episodes; i++) {
      const episode = this.episodesRun + 1;
      await this.round(episode);
      this.episodesRun = episode;
      const point = await this.evaluate(episode);
      this.curve.push(point);
      this.events.publish({ type: 'episode', topology: this.topology, episode, accuracy: point.accuracy, at: this.runtime.clock.now() });
    }
    this.wallMs += performance.now() - began;
    return this.metrics();
  }

  /** Trains one episode: every agent's, and whatever the topology does between episodes (sync, aggregation, scaling…). */
  protected abstract round(episode: number): Promise<void>;

  /** The deployment's held-out accuracy after `episode`, decided as the topology decides. */
  protected abstract evaluate(episode: number): Promise<CurvePoint>;

  protected abstract topologyMetrics(): TopologyMetrics[T];

  /** Agents the deployment counts in `agents`. */
  protected countedAgents(): number {
    return this.swarm.all().length;
  }

  async metrics(): Promise<DeploymentMetrics<T>> {
    const last = this.curve.at(-1);
    const perAgent = await Promise.all(this.swarm.all().map((handle) => this.report(handle.id)));
    return {
      topology: this.topology,
      seed: this.seed,
      config: this.config,
      episodes: this.episodesRun,
      agents: this.countedAgents(),
      accuracy: last?.accuracy ?? Number.NaN,
      oracleAccuracy: last?.oracleAccuracy ?? Number.NaN,
      convergenceEpisode: convergenceEpisode(this.curve, CONVERGENCE_TARGET, CONVERGENCE_WINDOW),
      learningCurve: [...this.curve],
      perAgent,
      messages: this.swarm.messages,
      bytesExchanged: this.swarm.bytes,
      crashes: this.events.count('crash'),
      restarts: this.events.count('restart'),
      wallMs: this.wallMs,
      topologyMetrics: this.topologyMetrics(),
    };
  }

  /** The last evaluation's accuracy of each agent, recorded by the topology's `evaluate`. */
  protected readonly agentAccuracy = new Map<string, number>();

  /**
   * The evaluation of a topology that decides by vote: every live agent
   * calls the held-out episodes (its own accuracy recorded; NaN for an agent
   * that did not answer), and the deployment's call on each step is their
   * consensus at `threshold`. The curve point counts the largest memory.
   */
  protected async voteEvaluation(
    episode: number,
    threshold: number,
    options: VoteOptions = {},
  ): Promise<{ readonly point: CurvePoint; readonly tally: VoteTally; readonly voters: number }> {
    const live = this.swarm.live();
    const held = await this.swarm.heldOutCalls([...live, ...(options.remoteVoters ?? [])], this.feed);
    for (const [id, score] of this.swarm.scores(held, this.feed)) if (this.swarm.get(id) !== undefined) this.agentAccuracy.set(id, score.accuracy);
    for (const agent of this.swarm.all()) if (!held.calls.has(agent.id)) this.agentAccuracy.set(agent.id, Number.NaN);
    const series = this.feed.held.series;
    // Short of a quorum nobody decides: a minority must not outvote the majority it cannot hear.
    const voters = held.calls.size >= (options.quorum ?? 0) ? [...held.calls.values()] : [];
    const tally = tallyVotes(series, voters, held.oracle, threshold);
    const oracle = mergeScores(held.oracle.map((calls) => scoreCalls(series, calls)));
    const sizes = await Promise.all(live.map((agent) => this.swarm.metricsOf(agent)));
    const patterns = sizes.flatMap((m) => (m === undefined ? [] : [m.patterns]));
    const point: CurvePoint = {
      episode,
      accuracy: tally.decided === 0 ? Number.NaN : tally.correct / tally.decided,
      oracleAccuracy: oracle.accuracy,
      decidedFraction: tally.steps === 0 ? 0 : tally.decided / tally.steps,
      patterns: patterns.length === 0 ? 0 : Math.max(...patterns),
    };
    return { point, tally, voters: held.calls.size };
  }

  private async report(id: string): Promise<AgentReport> {
    const handle = this.swarm.get(id)!;
    const live = this.swarm.isLive(id);
    const metrics = live ? await this.swarm.metricsOf(handle) : undefined;
    return {
      id,
      accuracy: this.agentAccuracy.get(id) ?? Number.NaN,
      patterns: metrics?.patterns ?? Number.NaN,
      episodesTrained: metrics?.episodesTrained ?? 0,
      restarts: this.runtime.metricsOf(handle.ref)?.restarts ?? 0,
      live,
    };
  }

  inject(plan: FaultPlan): FaultPlanRun {
    return this.runtime.faults.run(plan);
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.swarm.close();
    await this.runtime.stop();
    await Promise.all(this.swarm.all().map((handle) => ownedMemoryClosed(handle.dir)));
    await this.parts.persistence.close();
    if (this.parts.temporary) fs.rmSync(this.parts.dataDir, { recursive: true, force: true });
  }
}

/**
 * Closes what a failed `prepare` opened, then removes the directory it
 * created. A failure to close is dropped: the setup error already thrown is
 * the one the caller must see.
 */
async function undoPrepare(opened: { persistence?: LmdbPersistence; runtime?: Runtime; swarm?: Swarm }, temporaryDir: string | undefined): Promise<void> {
  opened.swarm?.close();
  await opened.runtime?.stop().catch(() => undefined);
  await opened.persistence?.close().catch(() => undefined);
  if (temporaryDir !== undefined) fs.rmSync(temporaryDir, { recursive: true, force: true });
}
