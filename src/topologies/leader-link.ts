import type { ActorRef } from '../actors/ref.js';
import type { ExportReply, MaintainReply } from '../agents/messages.js';
import type { DistillOptions } from '../memory/distill.js';
import type { Pattern } from '../memory/pattern.js';
import type { LatencySummary } from './deployment.js';
import { summarize } from './evaluation.js';
import type { DeploymentEvents } from './events.js';
import { topDown, weighted, workerWeight } from './hierarchical-aggregation.js';
import { fetchChanges, sliceLimit } from './replicator.js';
import type { AgentAddress, Swarm } from './swarm.js';

/** Merge only: near-duplicates of the same outcome, condition and tags fold into one; nothing is pruned, capacity evicts. */
const LEADER_DISTILL: DistillOptions = { similarity: 0.95, minSupport: 0, minConfidence: 0 };
/** The most patterns of a top-down update to one worker. */
const TOP_DOWN_LIMIT = 256;

/** One aggregation's parties: the acting leader, the workers answering, and how each worker did at its last evaluation. */
export interface AggregationParties {
  readonly leader: AgentAddress;
  readonly workers: readonly AgentAddress[];
  /** A worker's last held-out accuracy; NaN when it has none. */
  readonly accuracyOf: (worker: string) => number;
  /** Runs once the leader holds the aggregate, before the marks move: the standby shipment. */
  readonly follow?: (held: readonly Pattern[]) => Promise<void>;
}

/** What the leader link did so far, in the shape of the hierarchical metrics. */
export interface LeaderLinkMetrics {
  readonly aggregations: number;
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
}

/**
 * The link between a hierarchy's leader and its workers, wherever they run:
 * the same aggregation whether the workers are actors in this process or
 * remote refs on other nodes. One aggregation:
 *
 * 1. asks every worker for the patterns it originated or changed since the
 *    leader's high-water mark for it (the `changes` message);
 * 2. weighs each worker by its last held-out accuracy (`workerWeight`),
 *    shrinking the edge of a weaker worker's patterns and discarding those
 *    of a worker with no edge;
 * 3. writes them to the leader's memory in one import, then distils
 *    (merging near-duplicates across workers); the leader's capacity
 *    evicts the least useful beyond it;
 * 4. hands what the leader now holds to `follow` (the standby shipment);
 * 5. pushes down to each worker its best patterns the worker has not got
 *    (`topDown`): the strategy update.
 *
 * The marks move only once the deltas are in the leader, so deltas due
 * while the leader is unreachable are all aggregated when it is back.
 */
export class LeaderLink {
  /** Per worker, its journal sequence number up to which its deltas are in the leader. */
  private readonly marks: Map<string, number>;
  /** Per worker, the leader's pattern versions its top-down updates carried. */
  private readonly sent = new Map<string, Map<string, number>>();
  private readonly latencies: number[] = [];
  private readonly weights: Record<string, number> = {};
  private aggregations = 0;
  private aggregated = 0;
  private merged = 0;
  private discarded = 0;
  private pushed = 0;

  constructor(
    private readonly swarm: Swarm,
    private readonly events: DeploymentEvents,
    private readonly now: () => number,
    marks: ReadonlyMap<string, number> = new Map(),
  ) {
    this.marks = new Map(marks);
  }

  /** The workers' marks: what a standby needs to take over without aggregating a delta twice. */
  currentMarks(): ReadonlyMap<string, number> {
    return new Map(this.marks);
  }

  /** Adopts marks from elsewhere (a standby that acted, a restart): per worker the furthest of the two. */
  advanceMarks(marks: ReadonlyMap<string, number>): void {
    for (const [worker, seq] of marks) this.marks.set(worker, Math.max(seq, this.marks.get(worker) ?? 0));
  }

  /** Forgets what was pushed down: after a change of leader, whose versions differ, every worker is due a full update. */
  forgetPushes(): void {
    this.sent.clear();
  }

  /** One aggregation (see the class comment); false when the leader failed to complete it. */
  async aggregate(episode: number, parties: AggregationParties): Promise<boolean> {
    const { leader, workers, accuracyOf } = parties;
    const began = this.now();
    const deltas = (await Promise.all(workers.map((worker) => this.delta(worker)))).filter((d) => d !== undefined);
    const best = Math.max(...workers.map((worker) => accuracyOf(worker.id)).filter(Number.isFinite));
    const taken: Pattern[] = [];
    for (const { worker, patterns } of deltas) {
      const weight = workerWeight(accuracyOf(worker.id), best);
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
    const held = await this.held(leader);
    if (held === undefined) return false;
    await parties.follow?.(held);
    for (const { worker, seq } of deltas) this.marks.set(worker.id, seq);
    const done = this.now();
    this.latencies.push(done - began);
    this.aggregations++;
    this.aggregated += taken.length;
    this.events.publish({ type: 'aggregate', episode, patterns: taken.length, latencyMs: done - began, at: done });
    await Promise.all(workers.map((worker) => this.pushDown(worker, held)));
    return true;
  }

  /** Every pattern `agent` holds; undefined when it did not answer. */
  async held(agent: AgentAddress): Promise<Pattern[] | undefined> {
    const exported = await this.swarm.request(agent, (replyTo: ActorRef<ExportReply>) => ({ type: 'export', replyTo }));
    return exported?.ok === true ? this.swarm.patternsOf(exported.bundle) : undefined;
  }

  metrics(): LeaderLinkMetrics {
    return {
      aggregations: this.aggregations,
      aggregationLatency: summarize(this.latencies),
      aggregationLatenciesMs: [...this.latencies],
      patternsAggregated: this.aggregated,
      duplicatesMerged: this.merged,
      discarded: this.discarded,
      workerWeights: { ...this.weights },
      strategyUpdates: this.pushed,
    };
  }

  /** What `worker` originated or changed since the leader's mark for it, in slices that each fit a network frame; undefined if it did not answer. */
  private async delta(worker: AgentAddress): Promise<{ worker: AgentAddress; seq: number; patterns: readonly Pattern[] } | undefined> {
    const space = this.swarm.bundleSpace;
    const fetched = await fetchChanges(worker, this.marks.get(worker.id) ?? 0, space, this.swarm.requester, sliceLimit(space));
    if (fetched.kind === 'missed') return undefined;
    this.swarm.count(0, fetched.bytes);
    // A worker's bundle that fails validation would fail again: move past it, discarding what it carried.
    if (fetched.kind === 'refused') this.discarded += fetched.count;
    return { worker, seq: fetched.seq, patterns: fetched.kind === 'valid' ? fetched.patterns : [] };
  }

  private async pushDown(worker: AgentAddress, held: readonly Pattern[]): Promise<void> {
    const sent = this.sent.get(worker.id) ?? new Map<string, number>();
    this.sent.set(worker.id, sent);
    const update = topDown(held, worker.id, sent, TOP_DOWN_LIMIT);
    if (update.length === 0) return;
    const reply = await this.swarm.give(worker, update);
    if (reply?.ok !== true) return;
    for (const pattern of update) sent.set(pattern.id, pattern.version);
    this.pushed += update.length;
  }
}
