import type { ActorRef } from '../actors/ref.js';
import type { ChangesReply, ExportReply, MaintainReply } from '../agents/messages.js';
import type { CurvePoint } from '../learning/scenarios/curve.js';
import { BundleError } from '../memory/bundle.js';
import type { DistillOptions } from '../memory/distill.js';
import type { Pattern } from '../memory/pattern.js';
import type { HierarchicalConfig } from './config.js';
import type { DeployOptions, LatencySummary, TopologyMetrics } from './deployment.js';
import { mergeScores, scoreCalls, summarize } from './evaluation.js';
import { topDown, weighted, workerWeight } from './hierarchical-aggregation.js';
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

export interface HierarchicalMetrics {
  readonly aggregationInterval: number;
  readonly standby: boolean;
  /** The agent acting as leader at the end, and whether it is live. */
  readonly leader: string;
  readonly leaderLive: boolean;
  /** Patterns in the acting leader's memory at the last evaluation, and the most it keeps (`leader.memorySize`). */
  readonly leaderPatterns: number;
  readonly leaderCapacity: number;
  readonly aggregations: number;
  /** Aggregations due while no leader was live, or that it failed to complete: the single point of failure, showing. */
  readonly aggregationsMissed: number;
  /** From asking the workers for their deltas to the deltas merged in the leader's memory. */
  readonly aggregationLatency: LatencySummary;
  readonly aggregationLatenciesMs: readonly number[];
  /** Worker patterns written to the leader (after weighting). */
  readonly patternsAggregated: number;
  /** Near-duplicates folded into another pattern by the leader's distillation. */
  readonly duplicatesMerged: number;
  /** Worker patterns left out because their worker showed no edge over chance. */
  readonly discarded: number;
  /** Each worker's weight at its last aggregation (see `workerWeight`). */
  readonly workerWeights: Readonly<Record<string, number>>;
  /** Patterns the leader pushed down to workers. */
  readonly strategyUpdates: number;
  /** Mean held-out accuracy of the workers that answered at the last evaluation. */
  readonly workerAccuracy: number;
  readonly failovers: readonly Failover[];
  /** The acting leader going down → the next aggregation completed, by the standby or by the restarted leader. */
  readonly timeToRecover: LatencySummary;
  readonly timesToRecoverMs: readonly number[];
}

/** Merge only: near-duplicates of the same outcome, condition and tags fold into one; nothing is pruned, capacity evicts. */
const LEADER_DISTILL: DistillOptions = { similarity: 0.95, minSupport: 0, minConfidence: 0 };
/** The most patterns of a top-down update to one worker. */
const TOP_DOWN_LIMIT = 256;
/** The leader refines the aggregate on a market view of its own. */
const LEADER_STREAM = 'leader';

/**
 * Hierarchical: a leader and `workers.count` workers, each worker trading
 * its own instrument (its own stream of the feed). Every round the workers
 * train, and the leader trains at its own, lower learning rate on a market
 * view of its own, refining what it holds; every `aggregationInterval`
 * episodes the leader aggregates:
 *
 * 1. asks every live worker for the patterns it originated or changed since
 *    the leader's high-water mark for it (the `changes` message);
 * 2. weighs each worker by its last held-out accuracy (`workerWeight`),
 *    shrinking the edge of a weaker worker's patterns and discarding those
 *    of a worker with no edge;
 * 3. writes them to its memory in one import, then distils (merging
 *    near-duplicates across workers); its memory's capacity
 *    (`leader.memorySize`) evicts the least useful beyond it;
 * 4. with a standby, ships it every pattern the leader changed since the
 *    last shipment, so the standby holds what the leader holds;
 * 5. pushes down to each worker its best patterns the worker has not got
 *    (`topDown`): the strategy update.
 *
 * The high-water marks move only once the deltas are in the leader, so
 * deltas due while the leader is down are all aggregated when a leader is
 * back. The deployment's accuracy is the acting leader's held-out accuracy:
 * it holds the hierarchy's knowledge. With no leader live it is NaN, the
 * aggregation stops, and the workers trade on what they have; their mean
 * accuracy is reported as `workerAccuracy`.
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
  /** Per worker, the leader's pattern versions its top-down updates carried. */
  private readonly sent = new Map<string, Map<string, number>>();
  /** Per worker, its journal sequence number up to which its deltas are in the leader. */
  private readonly marks = new Map<string, number>();
  private readonly interval: number;
  private readonly latencies: number[] = [];
  private readonly recoveries: number[] = [];
  private readonly failovers: Failover[] = [];
  private readonly weights: Record<string, number> = {};
  private downSince: number | undefined;
  private aggregations = 0;
  private missed = 0;
  private aggregated = 0;
  private merged = 0;
  private discarded = 0;
  private pushed = 0;
  private leaderPatterns = 0;
  private workerAccuracy = Number.NaN;

  private constructor(config: HierarchicalConfig, options: HierarchicalDeployOptions) {
    super('hierarchical', config, SwarmDeployment.prepare('hierarchical', options));
    this.interval = options.aggregationInterval ?? 1;
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

  /** One aggregation (see the class comment); false when no leader was live to complete it. */
  private async aggregate(episode: number): Promise<boolean> {
    const leader = this.acting;
    if (!this.swarm.isLive(leader.id)) return false;
    const began = this.runtime.clock.now();
    const workers = this.workers.filter((worker) => this.swarm.isLive(worker.id));
    const deltas = (await Promise.all(workers.map((worker) => this.delta(worker)))).filter((d) => d !== undefined);
    const best = Math.max(...workers.map((worker) => this.agentAccuracy.get(worker.id) ?? Number.NaN).filter(Number.isFinite));
    const taken: Pattern[] = [];
    for (const { worker, patterns } of deltas) {
      const weight = workerWeight(this.agentAccuracy.get(worker.id) ?? Number.NaN, best);
      this.weights[worker.id] = weight;
      if (weight === 0) this.discarded += patterns.length;
      else taken.push(...patterns.map((pattern) => weighted(pattern, weight)));
    }
    if (taken.length > 0) {
      const imported = await this.swarm.give(leader, taken);
      if (imported?.ok !== true) return false;
      const maintained = await this.swarm.request(leader, (replyTo: ActorRef<MaintainReply>) => ({ type: 'maintain', distill: LEADER_DISTILL, replyTo }));
      if (maintained?.ok !== true) return false;
      this.merged += maintained.distilled?.merged.reduce((n, merge) => n + merge.from.length, 0) ?? 0;
    }
    const exported = await this.swarm.request(leader, (replyTo: ActorRef<ExportReply>) => ({ type: 'export', replyTo }));
    if (exported?.ok !== true) return false;
    const held = this.swarm.patternsOf(exported.bundle);
    await this.ship(held);
    for (const { worker, seq } of deltas) this.marks.set(worker.id, seq);
    const done = this.runtime.clock.now();
    this.latencies.push(done - began);
    this.aggregations++;
    this.aggregated += taken.length;
    if (this.downSince !== undefined) {
      this.recoveries.push(done - this.downSince);
      this.downSince = undefined;
    }
    this.events.publish({ type: 'aggregate', episode, patterns: taken.length, latencyMs: done - began, at: done });
    await Promise.all(workers.map((worker) => this.pushDown(worker, held)));
    return true;
  }

  /** What `worker` originated or changed since the leader's mark for it; undefined if it did not answer. */
  private async delta(worker: AgentHandle): Promise<{ worker: AgentHandle; seq: number; patterns: readonly Pattern[] } | undefined> {
    const since = this.marks.get(worker.id) ?? 0;
    const reply = await this.swarm.request(worker, (replyTo: ActorRef<ChangesReply>) => ({ type: 'changes', since, replyTo }));
    if (reply?.ok !== true) return undefined;
    this.swarm.count(0, reply.bundle.byteLength);
    try {
      return { worker, seq: reply.seq, patterns: this.swarm.patternsOf(reply.bundle) };
    } catch (error) {
      // A worker's bundle that fails validation would fail again: move past it, discarding what it carried.
      if (!(error instanceof BundleError)) throw error;
      this.discarded += reply.count;
      return { worker, seq: reply.seq, patterns: [] };
    }
  }

  /** Sends the follower every pattern the leader changed since the last shipment; all of them when it is out of step. */
  private async ship(held: readonly Pattern[]): Promise<void> {
    const follower = this.follower;
    if (follower === undefined) return;
    if (!this.swarm.isLive(follower.id)) return this.outOfStep();
    const changed = held.filter((pattern) => this.shipped.get(pattern.id) !== pattern.version);
    if (changed.length > 0) {
      const reply = await this.swarm.give(follower, changed);
      if (reply?.ok !== true) return this.outOfStep();
    }
    for (const pattern of changed) this.shipped.set(pattern.id, pattern.version);
    this.followerInStep = true;
  }

  private async pushDown(worker: AgentHandle, held: readonly Pattern[]): Promise<void> {
    const sent = this.sent.get(worker.id) ?? new Map<string, number>();
    this.sent.set(worker.id, sent);
    const update = topDown(held, worker.id, sent, TOP_DOWN_LIMIT);
    if (update.length === 0) return;
    const reply = await this.swarm.give(worker, update);
    if (reply?.ok !== true) return;
    for (const pattern of update) sent.set(pattern.id, pattern.version);
    this.pushed += update.length;
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
      aggregations: this.aggregations,
      aggregationsMissed: this.missed,
      aggregationLatency: summarize(this.latencies),
      aggregationLatenciesMs: [...this.latencies],
      patternsAggregated: this.aggregated,
      duplicatesMerged: this.merged,
      discarded: this.discarded,
      workerWeights: { ...this.weights },
      strategyUpdates: this.pushed,
      workerAccuracy: this.workerAccuracy,
      failovers: [...this.failovers],
      timeToRecover: summarize(this.recoveries),
      timesToRecoverMs: [...this.recoveries],
    };
  }
}
