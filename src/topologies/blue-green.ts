import { ask } from '../actors/ask.js';
import type { ActorRef } from '../actors/ref.js';
import { DEFAULT_SCREEN } from '../agents/recent.js';
import { FeatureDimensionsError } from '../agents/errors.js';
import type { FeatureSeries } from '../learning/episode.js';
import { PatternLearner } from '../learning/learner.js';
import type { CurvePoint } from '../learning/scenarios/curve.js';
import { scoredSteps, type Direction } from '../market/outcomes.js';
import type { PatternMemory } from '../memory/store.js';
import { DecisionClient, type TrafficCounts } from './blue-green-client.js';
import { Courier } from './courier.js';
import { groupVersions, type VersionConfig } from './blue-green-versions.js';
import type { BlueGreenConfig } from './config.js';
import type { DeploymentMetrics, DeployOptions } from './deployment.js';
import { mergeScores, oracleCalls, scoreCalls, type Score } from './evaluation.js';
import { GROUPS, router, type Decision, type Group, type RouterMessage, type RouterStatus } from './router.js';
import { twoProportionZTest } from './significance.js';
import type { AgentHandle } from './swarm.js';
import { SwarmDeployment } from './swarm-deployment.js';
import { consensus } from './vote.js';

/** Episodes between the two-way transfers of `knowledgeTransfer`. */
export const BLUE_GREEN_TRANSFER_EVERY = 2;
/** A group's patterns move to the other when at least this confident (and pass the receiver's screen). */
export const BLUE_GREEN_TRANSFER_MIN_CONFIDENCE = 0.6;
/** The A/B test promotes green on its own when green is ahead with a p-value below this. */
export const SIGNIFICANCE_LEVEL = 0.05;

/** The A/B comparison of one evaluation: held-out decisions the router split between the groups. */
export interface ABTestReport {
  /** Held-out decisions each group took (its own, not fallbacks), and how many were right: the sample sizes are `decided`. */
  readonly blue: Score;
  readonly green: Score;
  /** Two-proportion z of green's accuracy over blue's; positive when green is ahead. */
  readonly z: number;
  /** Two-sided. */
  readonly pValue: number;
  /** p-value below `SIGNIFICANCE_LEVEL`. */
  readonly significant: boolean;
}

export interface CutoverRecord {
  readonly episode: number;
  readonly reason: 'manual' | 'significant';
  readonly at: number;
}

export interface RollbackRecord {
  readonly episode: number;
  /** Green's patterns written into blue's memories. */
  readonly preserved: number;
  readonly at: number;
}

export interface BlueGreenMetrics {
  readonly live: Group;
  readonly versions: Readonly<Record<Group, string>>;
  readonly versionConfigs: Readonly<Record<Group, VersionConfig>>;
  /** Each group's majority call on every held-out step at the last evaluation; NaN for a group with no live agent. */
  readonly groupAccuracy: Readonly<Record<Group, number>>;
  /** The last evaluation's A/B test; undefined when the router was not splitting then (A/B off, or green live). */
  readonly abTest: ABTestReport | undefined;
  readonly cutovers: readonly CutoverRecord[];
  readonly rollbacks: readonly RollbackRecord[];
  /** Requests sent through `decide` and what became of them. */
  readonly traffic: TrafficCounts;
  /** The router's own counters (this incarnation), held-out decisions included. */
  readonly router: RouterStatus | undefined;
  readonly transfers: number;
  readonly patternsTransferred: number;
  /** Patterns refused by the receiver's screen (they contradict what it trained on lately). */
  readonly patternsRefused: number;
}

/**
 * Blue-green with knowledge transfer. Two groups of agents, blue (live) and
 * green (the candidate), each running the learner its version selects
 * (`VERSIONS`; an unknown version is an `UnknownVersionError` before
 * anything starts). Every agent trains each round on its own instrument.
 *
 * Decisions go through a router actor (`router`): to the live group, or,
 * with `abTesting` while blue is live, split between the groups by a
 * seeded draw per request. Each evaluation sends every held-out step
 * through the router as a request, so the deployment's accuracy is that of
 * the decisions the router returned, and the split decisions are compared
 * with a two-proportion z-test (sample sizes are the decided steps of each
 * group). When green is ahead with p < 0.05 the deployment cuts over by
 * itself; `cutover()` does it on demand. `rollback()` makes blue live again
 * and, with `rollbackPreservation`, first moves green's validated patterns
 * into blue's memories (bundle export → validated import, screened against
 * each receiver's recent data), so what green learned is kept.
 * `knowledgeTransfer` moves each group's confident patterns to the other
 * every `BLUE_GREEN_TRANSFER_EVERY` episodes; a pattern is sent again only
 * once it changed.
 *
 * Services call `decide(features)`: a request through the router, counted
 * as sent and answered (or dropped, duplicated, late) by `traffic()`.
 */
export class BlueGreenDeployment extends SwarmDeployment<'blue-green'> {
  private readonly groups: Readonly<Record<Group, readonly AgentHandle[]>>;
  private readonly versionConfigs: Readonly<Record<Group, VersionConfig>>;
  private readonly router: ActorRef<RouterMessage>;
  private readonly client: DecisionClient;
  private readonly heldClient: DecisionClient;
  private readonly timeout: number;
  private live: Group = 'blue';
  private readonly cutovers: CutoverRecord[] = [];
  private readonly rollbacks: RollbackRecord[] = [];
  private groupAccuracy: Record<Group, number> = { blue: Number.NaN, green: Number.NaN };
  private abTest: ABTestReport | undefined;
  private lastStatus: RouterStatus | undefined;
  /** Whether a significant A/B result may promote green; a rollback, an operator's decision, turns it off. */
  private automatic = true;
  private readonly courier = new Courier(this.swarm, this.events);

  private constructor(config: BlueGreenConfig, options: DeployOptions) {
    const versionConfigs = groupVersions(config);
    const timeout = options.askTimeoutMs ?? 30_000;
    super('blue-green', config, SwarmDeployment.prepare('blue-green', options));
    const space = this.swarm.space;
    const ids = (group: Group) => Array.from({ length: config[group].agents }, (_, i) => `${group}-${i + 1}`);
    this.timeout = timeout;
    this.versionConfigs = versionConfigs;
    const spawn = (group: Group) =>
      ids(group).map((id) =>
        this.swarm.spawn(this.root, {
          id,
          learningRate: versionConfigs[group].learningRate,
          learner: (memory: PatternMemory) => PatternLearner.open({ space, memory, agentId: id, ...versionConfigs[group] }),
          ...(options.agentSupervision === undefined ? {} : { supervision: options.agentSupervision }),
        }),
      );
    this.groups = { blue: spawn('blue'), green: spawn('green') };
    this.router = this.runtime.spawn(
      this.root,
      router({
        versions: { blue: config.blue.version, green: config.green.version },
        agents: (group) => this.groups[group].filter((agent) => this.swarm.isLive(agent.id)),
        request: this.swarm.requester,
        abTesting: config.abTesting,
        seed: this.seed,
      }),
      { name: 'router' },
    );
    this.client = new DecisionClient(this.runtime, this.root, this.router, timeout, 'request');
    this.heldClient = new DecisionClient(this.runtime, this.root, this.router, timeout, 'held');
  }

  /** Throws `UnknownVersionError` (a `DeploymentConfigError`) naming every version `VERSIONS` lacks. */
  static create(config: BlueGreenConfig, options: DeployOptions = {}): BlueGreenDeployment {
    return new BlueGreenDeployment(config, options);
  }

  /** The group taking decisions now (blue while A/B testing). */
  get liveGroup(): Group {
    return this.live;
  }

  /**
   * A trading decision on one feature vector, through the router; undefined
   * if no answer came within the ask timeout. A vector of the wrong size is
   * a `FeatureDimensionsError`, before anything is sent.
   */
  decide(features: Float32Array): Promise<Decision | undefined> {
    const { dimensions } = this.swarm.space;
    if (!(features instanceof Float32Array) || features.length !== dimensions) {
      return Promise.reject(new FeatureDimensionsError(dimensions, features?.length ?? 0, 'the feature vector of a decision'));
    }
    return this.client.decide(features);
  }

  traffic(): TrafficCounts {
    return this.client.traffic();
  }

  /**
   * Promotes green: every request the router takes from now on goes to
   * green, and those it took before are answered by the group they were
   * routed to, so nothing is dropped or answered twice. A no-op when green
   * is live already.
   */
  async cutover(): Promise<RouterStatus> {
    return this.promote('green', 'manual');
  }

  /**
   * Makes blue live again. With `rollbackPreservation`, green's validated
   * patterns are first imported into every live blue agent (see the class
   * comment); the 'rollback' event says how many were kept. A/B testing
   * resumes, but green is no longer promoted on its own: an operator rolled
   * it back, and only `cutover()` promotes it again.
   */
  async rollback(): Promise<{ readonly status: RouterStatus; readonly preserved: number }> {
    this.automatic = false;
    const preserved = this.config.rollbackPreservation ? await this.transferGroup('green', 'blue') : 0;
    const status = await this.route('blue');
    const at = this.runtime.clock.now();
    this.rollbacks.push({ episode: this.episodesRun, preserved, at });
    this.events.publish({ type: 'rollback', to: 'blue', preserved, at });
    return { status, preserved };
  }

  protected async round(episode: number): Promise<void> {
    await Promise.all(this.swarm.live().map((agent) => this.swarm.train(agent, this.feed.episode(agent.id, episode), episode)));
    if (this.config.knowledgeTransfer && episode % BLUE_GREEN_TRANSFER_EVERY === 0) {
      await this.transferGroup('blue', 'green');
      await this.transferGroup('green', 'blue');
    }
  }

  protected async evaluate(episode: number): Promise<CurvePoint> {
    const live = this.swarm.live();
    const held = await this.swarm.heldOutCalls(live, this.feed);
    for (const [id, score] of this.swarm.scores(held, this.feed)) this.agentAccuracy.set(id, score.accuracy);
    for (const agent of this.swarm.all()) if (!held.calls.has(agent.id)) this.agentAccuracy.set(agent.id, Number.NaN);
    const { series, starts } = this.feed.held;
    const windows = starts.map((start) => scoredSteps({ start, end: start + this.feed.episodeLength }, series.bars.length, 1).filter((i) => series.features[i] !== undefined));

    this.groupAccuracy = Object.fromEntries(
      GROUPS.map((group) => {
        const members = this.groups[group].filter((agent) => held.calls.has(agent.id)).map((agent) => held.calls.get(agent.id)!);
        if (members.length === 0) return [group, Number.NaN];
        const scores = windows.map((steps, k) =>
          scoreCalls(series, { steps, directions: steps.map((_, j) => consensus(members.map((calls) => calls[k]!.directions[j]!), members.length, 0.5)) }),
        );
        return [group, mergeScores(scores).accuracy];
      }),
    ) as Record<Group, number>;

    const status = await this.status();
    const steps = windows.flat();
    const decisions = await Promise.all(steps.map((i) => this.heldClient.decide(series.features[i]!)));
    const directions: Direction[] = decisions.map((d) => d?.direction ?? 0);
    const score = scoreCalls(series, { steps, directions });
    this.abTest = status?.splitting === true ? abTest(series, steps, decisions) : undefined;
    const oracle = mergeScores(windows.map((s) => scoreCalls(series, oracleCalls(series, s))));
    const sizes = await Promise.all(live.map((agent) => this.swarm.metricsOf(agent)));
    const patterns = sizes.filter((m) => m !== undefined).map((m) => m!.patterns);
    if (this.automatic && this.abTest?.significant === true && this.abTest.green.accuracy > this.abTest.blue.accuracy) await this.promote('green', 'significant');
    return {
      episode,
      accuracy: score.accuracy,
      oracleAccuracy: oracle.accuracy,
      decidedFraction: steps.length === 0 ? 0 : score.decided / steps.length,
      patterns: patterns.length === 0 ? 0 : Math.max(...patterns),
    };
  }

  protected topologyMetrics(): BlueGreenMetrics {
    return {
      live: this.live,
      versions: { blue: this.config.blue.version, green: this.config.green.version },
      versionConfigs: this.versionConfigs,
      groupAccuracy: { ...this.groupAccuracy },
      abTest: this.abTest,
      cutovers: [...this.cutovers],
      rollbacks: [...this.rollbacks],
      traffic: this.client.traffic(),
      router: this.lastStatus,
      transfers: this.courier.transfers,
      patternsTransferred: this.courier.patterns,
      patternsRefused: this.courier.refused,
    };
  }

  override async metrics(): Promise<DeploymentMetrics<'blue-green'>> {
    await this.status();
    return super.metrics();
  }

  private async status(): Promise<RouterStatus | undefined> {
    const status = await ask(this.router, (replyTo: ActorRef<RouterStatus>) => ({ type: 'status', replyTo }), this.timeout).catch(() => undefined);
    if (status !== undefined) {
      this.lastStatus = status;
      // A router recovered from an existing data directory may have promoted green in an earlier run.
      this.live = status.live;
    }
    return status;
  }

  private async promote(group: Group, reason: CutoverRecord['reason']): Promise<RouterStatus> {
    if (this.live === group) return (await this.status()) ?? this.lastStatus!;
    const status = await this.route(group);
    const at = this.runtime.clock.now();
    this.cutovers.push({ episode: this.episodesRun, reason, at });
    this.events.publish({ type: 'cutover', to: group, at });
    return status;
  }

  private async route(group: Group): Promise<RouterStatus> {
    this.live = group;
    const status = await ask(this.router, (replyTo: ActorRef<RouterStatus>) => ({ type: 'promote', group, replyTo }), this.timeout);
    this.lastStatus = status;
    return status;
  }

  /**
   * Moves each live agent of `from`'s own confident patterns to every live
   * agent of `to`: validated as a bundle, screened against the receiver's
   * recent data on import. Returns the patterns written.
   */
  private async transferGroup(from: Group, to: Group): Promise<number> {
    const targets = this.groups[to].filter((agent) => this.swarm.isLive(agent.id));
    let written = 0;
    for (const source of this.groups[from].filter((agent) => this.swarm.isLive(agent.id))) {
      const patterns = await this.courier.collect(source, { minConfidence: BLUE_GREEN_TRANSFER_MIN_CONFIDENCE });
      if (patterns === undefined) continue;
      for (const target of targets) written += await this.courier.deliver(source.id, patterns, target, DEFAULT_SCREEN);
    }
    return written;
  }
}

function abTest(series: FeatureSeries, steps: readonly number[], decisions: readonly (Decision | undefined)[]): ABTestReport {
  const byGroup = (group: Group): Score => {
    const picked = steps.filter((_, j) => decisions[j]?.group === group && decisions[j]?.fallback === false);
    const directions = steps.flatMap((_, j) => (decisions[j]?.group === group && decisions[j]?.fallback === false ? [decisions[j]!.direction] : []));
    return scoreCalls(series, { steps: picked, directions });
  };
  const blue = byGroup('blue');
  const green = byGroup('green');
  const { z, pValue } = twoProportionZTest({ successes: green.correct, trials: green.decided }, { successes: blue.correct, trials: blue.decided });
  return { blue, green, z, pValue, significant: pValue < SIGNIFICANCE_LEVEL };
}
