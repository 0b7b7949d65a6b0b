import type { CurvePoint } from '../learning/scenarios/curve.js';
import type { Pattern } from '../memory/pattern.js';
import type { HierarchicalConfig } from './config.js';
import type { DeployOptions, LatencySummary, TopologyMetrics } from './deployment.js';
import { mergeScores, scoreCalls, summarize } from './evaluation.js';
import { LeaderLink, type LeaderLinkMetrics } from './leader-link.js';
import type { AgentHandle } from './swarm.js';
import { SwarmDeployment } from './swarm-deployment.js';

export interface HierarchicalDeployOptions extends DeployOptions {
  /**
   * Episodes between aggregations (the k): workers push their
   * deltas, the leader merges them and pushes its best patterns back.
   * Default 1, every episode. Not a key of the reference config, so it is a
   * deployment option.
   */
  readonly aggregationInterval?: number;
}

export interface Failover {
  readonly from: string;
  readonly to: string;
  readonly episode: number;
  readonly at: number;
}

export interface HierarchicalMetrics extends LeaderLinkMetrics {
  readonly aggregationInterval: number;
  readonly standby: boolean;
  /** The agent acting as leader at the end, and whether it is live. */
  readonly leader: string;
  readonly leaderLive: boolean;
  /** Patterns in the acting leader's memory at the last evaluation, and the most it keeps (`leader.memorySize`). */
  readonly leaderPatterns: number;
  readonly leaderCapacity: number;
  /** Aggregations due while no leader was live, or that it failed to complete: the single point of failure, showing. */
  readonly aggregationsMissed: number;
  /** Mean held-out accuracy of the workers that answered at the last evaluation. */
  readonly workerAccuracy: number;
  readonly failovers: readonly Failover[];
  /** The acting leader going down → the next aggregation completed, by the standby or by the restarted leader. */
  readonly timeToRecover: LatencySummary;
  readonly timesToRecoverMs: readonly number[];
}

/** The leader refines the aggregate on a market view of its own. */
export const LEADER_STREAM = 'leader';

/**
 * Hierarchical: a leader and `workers.count` workers, each worker trading
 * its own instrument (its own stream of the feed). Every round the workers
 * train, and the leader trains at its own, lower learning rate on a market
 * view of its own, refining what it holds; every `aggregationInterval`
 * episodes the leader aggregates its live workers' deltas through the
 * `LeaderLink` (leader-link.ts) and, with a standby, ships it every pattern
 * the leader changed since the last shipment and the ids it no longer holds,
 * so the standby holds what the leader holds. The deployment's accuracy is the acting leader's held-out
 * accuracy: it holds the hierarchy's knowledge. With no leader live it is
 * NaN, the aggregation stops, and the workers trade on what they have;
 * their mean accuracy is reported as `workerAccuracy`.
 *
 * The leader is an agent with its memory on LMDB, so a restarted leader has
 * every committed pattern back. With `standby`, a second leader follows the
 * first and takes over when the acting one is down (if it is in step); the
 * one that comes back becomes the follower and is brought up to date by the
 * next shipment. Shipments go with aggregations, so a standby that takes
 * over lacks at most the leader's own training since the last one, never a
 * worker's delta. Time to recover runs from the acting leader going down
 * to the next aggregation completed.
 */
export class HierarchicalDeployment extends SwarmDeployment<'hierarchical'> {
  private readonly workers: AgentHandle[];
  private acting: AgentHandle;
  private follower: AgentHandle | undefined;
  /** Whether the follower holds everything the acting leader held at the last shipment. */
  private followerInStep = true;
  /** Per pattern id, the acting leader's version the follower was last shipped. */
  private shipped = new Map<string, number>();
  private readonly link: LeaderLink;
  private readonly interval: number;
  private readonly recoveries: number[] = [];
  private readonly failovers: Failover[] = [];
  private downSince: number | undefined;
  private missed = 0;
  private leaderPatterns = 0;
  private workerAccuracy = Number.NaN;

  private constructor(config: HierarchicalConfig, options: HierarchicalDeployOptions) {
    super('hierarchical', config, SwarmDeployment.prepare('hierarchical', options));
    this.interval = options.aggregationInterval ?? 1;
    this.link = new LeaderLink(this.swarm, this.events, () => this.runtime.clock.now());
    const supervision = options.agentSupervision === undefined ? {} : { supervision: options.agentSupervision };
    const leader = { learningRate: config.leader.learningRate, capacity: config.leader.memorySize, ...supervision };
    this.acting = this.swarm.spawn(this.root, { id: 'leader', ...leader });
    this.follower = config.standby ? this.swarm.spawn(this.root, { id: 'standby', ...leader }) : undefined;
    this.workers = Array.from({ length: config.workers.count }, (_, i) =>
      this.swarm.spawn(this.root, {
        id: `worker-${i + 1}`,
        learningRate: config.workers.learningRate,
        capacity: config.workers.memorySize,
        ...supervision,
      }),
    );
    const down = (event: { readonly agent: string; readonly at: number }) => {
      if (event.agent === this.acting.id) this.downSince ??= event.at;
      if (event.agent === this.follower?.id) this.outOfStep();
    };
    this.events.on('crash', down);
    this.events.on('agent-stopped', down);
  }

  static create(config: HierarchicalConfig, options: HierarchicalDeployOptions = {}): HierarchicalDeployment {
    // Checked before anything is started, so a refusal leaves nothing behind.
    const interval = options.aggregationInterval ?? 1;
    if (!Number.isSafeInteger(interval) || interval < 1) throw new RangeError(`aggregationInterval must be a positive integer, got ${interval}`);
    return new HierarchicalDeployment(config, options);
  }

  /** Workers only: the leader and its standby are not counted. */
  protected override countedAgents(): number {
    return this.workers.length;
  }

  protected async round(episode: number): Promise<void> {
    this.failOver(episode);
    const trainees = [
      ...this.workers.map((worker) => ({ agent: worker, stream: worker.id })),
      { agent: this.acting, stream: LEADER_STREAM },
    ].filter(({ agent }) => this.swarm.isLive(agent.id));
    await Promise.all(trainees.map(({ agent, stream }) => this.swarm.train(agent, this.feed.episode(stream, episode), episode)));
    if (episode % this.interval !== 0) return;
    this.failOver(episode);
    if (!(await this.aggregate(episode))) this.missed++;
  }

  /** Hands the lead to the follower when the acting leader is down and the follower is live and in step. */
  private failOver(episode: number): void {
    const follower = this.follower;
    if (follower === undefined || this.swarm.isLive(this.acting.id) || !this.swarm.isLive(follower.id) || !this.followerInStep) return;
    this.failovers.push({ from: this.acting.id, to: follower.id, episode, at: this.runtime.clock.now() });
    this.follower = this.acting;
    this.acting = follower;
    this.outOfStep();
  }

  private outOfStep(): void {
    this.followerInStep = false;
    this.shipped = new Map();
  }

  /** One aggregation by the acting leader; false when no leader was live to complete it. */
  private async aggregate(episode: number): Promise<boolean> {
    const leader = this.acting;
    if (!this.swarm.isLive(leader.id)) return false;
    const done = await this.link.aggregate(episode, {
      leader,
      workers: this.workers.filter((worker) => this.swarm.isLive(worker.id)),
      accuracyOf: (worker) => this.agentAccuracy.get(worker) ?? Number.NaN,
      follow: (held) => this.ship(held),
    });
    if (done && this.downSince !== undefined) {
      this.recoveries.push(this.runtime.clock.now() - this.downSince);
      this.downSince = undefined;
    }
    return done;
  }

  /** Sends the follower every pattern the leader changed since the last shipment; all of them when it is out of step. */
  private async ship(held: readonly Pattern[]): Promise<void> {
    const follower = this.follower;
    if (follower === undefined) return;
    if (!this.swarm.isLive(follower.id)) return this.outOfStep();
    const changed = held.filter((pattern) => this.shipped.get(pattern.id) !== pattern.version);
    // What the leader merged away or evicted goes from the follower too, so that it mirrors the leader. Out of
    // step (nothing shipped yet, or the follower was the leader before), that is whatever the follower holds beyond.
    const holds = new Set(held.map((pattern) => pattern.id));
    const before = this.shipped.size > 0 ? [...this.shipped.keys()] : ((await this.link.held(follower)) ?? []).map((pattern) => pattern.id);
    const gone = before.filter((id) => !holds.has(id));
    if (changed.length > 0 || gone.length > 0) {
      const reply = await this.swarm.give(follower, changed, undefined, gone);
      if (reply?.ok !== true) return this.outOfStep();
    }
    for (const id of gone) this.shipped.delete(id);
    for (const pattern of changed) this.shipped.set(pattern.id, pattern.version);
    this.followerInStep = true;
  }

  protected async evaluate(episode: number): Promise<CurvePoint> {
    this.failOver(episode);
    const live = this.swarm.live();
    const held = await this.swarm.heldOutCalls(live, this.feed);
    const scores = this.swarm.scores(held, this.feed);
    for (const agent of this.swarm.all()) this.agentAccuracy.set(agent.id, scores.get(agent.id)?.accuracy ?? Number.NaN);
    const workers = this.workers.map((worker) => scores.get(worker.id)?.accuracy ?? Number.NaN).filter(Number.isFinite);
    this.workerAccuracy = workers.length === 0 ? Number.NaN : workers.reduce((a, b) => a + b, 0) / workers.length;
    const series = this.feed.held.series;
    const oracle = mergeScores(held.oracle.map((calls) => scoreCalls(series, calls)));
    const steps = held.oracle.reduce((n, calls) => n + calls.steps.length, 0);
    const leader = scores.get(this.acting.id);
    const metrics = this.swarm.isLive(this.acting.id) ? await this.swarm.metricsOf(this.acting) : undefined;
    this.leaderPatterns = metrics?.patterns ?? Number.NaN;
    return {
      episode,
      accuracy: leader?.accuracy ?? Number.NaN,
      oracleAccuracy: oracle.accuracy,
      decidedFraction: leader === undefined || steps === 0 ? 0 : leader.decided / steps,
      patterns: metrics?.patterns ?? 0,
    };
  }

  protected topologyMetrics(): TopologyMetrics['hierarchical'] {
    return {
      aggregationInterval: this.interval,
      standby: this.config.standby,
      leader: this.acting.id,
      leaderLive: this.swarm.isLive(this.acting.id),
      leaderPatterns: this.leaderPatterns,
      leaderCapacity: this.config.leader.memorySize,
      ...this.link.metrics(),
      aggregationsMissed: this.missed,
      workerAccuracy: this.workerAccuracy,
      failovers: [...this.failovers],
      timeToRecover: summarize(this.recoveries),
      timesToRecoverMs: [...this.recoveries],
    };
  }
}
