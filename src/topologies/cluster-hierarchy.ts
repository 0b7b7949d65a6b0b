import { ask, dispatch } from '../actors/ask.js';
import { stateless } from '../actors/behaviour.js';
import type { ActorRef } from '../actors/ref.js';
import type { IdsReply } from '../agents/messages.js';
import type { CurvePoint } from '../learning/scenarios/curve.js';
import { MAX_ID_LENGTH, type Pattern } from '../memory/pattern.js';
import type { MemberInfo, Node, NodeOptions } from '../net/node.js';
import { clusterProgress, type ProgressMessage, readProgress } from './cluster-progress.js';
import { answerOperator, controlBehaviour, OneAtATime, type OperatorMessage, startClusterParts } from './cluster-node.js';
import type { HierarchicalConfig } from './config.js';
import type { DeploymentMetrics, RunOptions, TopologyMetrics } from './deployment.js';
import { mergeScores, scoreCalls, summarize } from './evaluation.js';
import { type Failover, type HierarchicalDeployOptions, LEADER_STREAM } from './hierarchical.js';
import { LeaderLink } from './leader-link.js';
import { type AgentsQuery, type ClusterAgent, type ClusterRole, MemberDirectories } from './member-directories.js';
import { sliceLimit } from './replicator.js';
import type { AgentAddress, AgentHandle } from './swarm.js';
import { type DeploymentParts, SwarmDeployment } from './swarm-deployment.js';

/** What a node of a hierarchy hosts: the leader, its standby, or workers only. A leader or standby node may host workers too. */
export type HierarchyNodeRole = 'leader' | 'standby' | 'worker';

export interface ClusterHierarchyOptions extends HierarchicalDeployOptions {
  /** This node; its runtime is the deployment's own. `protocol` defaults to HTTP/2. */
  readonly node: Omit<NodeOptions, 'runtime'>;
  readonly role: HierarchyNodeRole;
  /** Workers hosted on this node (the config's `workers.count` counts the cluster's). Default 0 on a leader or standby node; at least 1 on a worker node. */
  readonly localWorkers?: number;
  /** How often a node learns members it has not heard from and a standby checks whether to hand back. Default 2,000 ms; 0 never. */
  readonly checkMs?: number;
}

export interface ClusterHierarchyStatus {
  readonly node: string;
  readonly role: HierarchyNodeRole;
  readonly incarnation: string;
  readonly episodes: number;
  /** Whether this node's leader or standby aggregates now. */
  readonly acting: boolean;
  readonly agents: readonly { readonly id: string; readonly role: ClusterRole; readonly live: boolean; readonly patternIds: readonly string[] }[];
  readonly members: readonly Pick<MemberInfo, 'node' | 'status'>[];
  /** Workers answering from here now, local and remote. */
  readonly reachableWorkers: number;
  /** Per worker, its journal sequence number up to which its deltas are in this node's leader or standby. */
  readonly marks: Readonly<Record<string, number>>;
  readonly aggregations: number;
  readonly strategyUpdates: number;
  readonly handBacks: number;
}

/** What the nodes of a hierarchy tell one another. */
export type HierarchyDirectoryMessage =
  | AgentsQuery
  /** Leader → standby, after an aggregation whose patterns the standby was shipped: the marks it covered. */
  | { readonly type: 'shipped'; readonly marks: Readonly<Record<string, number>> }
  /** Standby → leader, once it gave back what it changed while acting: adopt its marks. */
  | { readonly type: 'hand-back'; readonly marks: Readonly<Record<string, number>>; readonly replyTo: ActorRef<true> };

/** What an operator (the CLI, a test harness, another service) may ask of a node of the hierarchy. */
export type HierarchyControlMessage = OperatorMessage<ClusterHierarchyStatus>;

export const HIERARCHY_DIRECTORY_PATH = '/hierarchical/directory';
export const HIERARCHY_CONTROL_PATH = '/hierarchical/control';

/** A page of ids this long fills at most half a megabyte, which fits in a network frame however long the ids are. */
const IDS_PER_PAGE = Math.floor((512 * 1024) / MAX_ID_LENGTH);

/**
 * The hierarchy across processes: one node hosts the leader, optionally
 * another its standby, and worker nodes the workers; the leader link
 * (`LeaderLink`) runs over remote refs, exactly as in one process. Every
 * node trains its own agents each round; the acting leader aggregates every
 * `aggregationInterval` episodes from every worker it reaches, each from
 * the leader's mark for it, in slices that fit a network frame, and pushes
 * each worker its strategy update. The marks are journaled on the node's
 * LMDB, so a restarted leader goes on where it stopped.
 *
 * With a standby node (`standby: true`), the leader ships it what changed
 * after every aggregation, then the marks that covered it. The standby acts
 * while it reaches no leader (the leader node is down, or on the other side
 * of a partition): it trains on the leader's market view and aggregates
 * from the workers from the shipped marks, so no delta is aggregated twice
 * or skipped. Once it reaches a leader again, it gives back the patterns it
 * changed while acting and its marks, and follows again. Across a partition
 * both sides may aggregate for a while; the hand-back after healing is what
 * joins their knowledge. The leader link's pushes to workers are idempotent
 * by version, so a worker served by both meanwhile is not harmed.
 */
export class ClusterHierarchicalDeployment extends SwarmDeployment<'hierarchical'> {
  readonly node: Node;
  readonly role: HierarchyNodeRole;
  /** This node's leader or standby agent. */
  private readonly lead: AgentHandle | undefined;
  private readonly workers: AgentHandle[];
  private readonly directories: MemberDirectories;
  private readonly link: LeaderLink;
  private readonly progress: ActorRef<ProgressMessage>;
  private readonly interval: number;
  private readonly timeout: number;
  /** Leader: per pattern id, the version last shipped to the standby. */
  private shipped = new Map<string, number>();
  /** Standby: the versions it held when it took over, to tell what it changed while acting; undefined while following. */
  private baseline: Map<string, number> | undefined;
  private handingBack: Promise<void> | undefined;
  private handBacks = 0;
  private missed = 0;
  private readonly failovers: Failover[] = [];
  private readonly recoveries: number[] = [];
  private tookOverAt: number | undefined;
  private leaderPatterns = Number.NaN;
  private workerAccuracy = Number.NaN;
  private readonly training = new OneAtATime();
  private halted = false;

  private constructor(config: HierarchicalConfig, options: ClusterHierarchyOptions, parts: DeploymentParts, node: Node) {
    super('hierarchical', config, parts);
    this.node = node;
    this.role = options.role;
    this.interval = options.aggregationInterval ?? 1;
    this.timeout = options.askTimeoutMs ?? 10_000;
    const supervision = options.agentSupervision === undefined ? {} : { supervision: options.agentSupervision };
    this.lead =
      options.role === 'worker'
        ? undefined
        : this.swarm.spawn(this.root, { id: options.role, learningRate: config.leader.learningRate, capacity: config.leader.memorySize, ...supervision });
    this.workers = Array.from({ length: localWorkers(options) }, (_, i) =>
      this.swarm.spawn(this.root, {
        id: `${node.id}-worker-${i + 1}`,
        learningRate: config.workers.learningRate,
        capacity: config.workers.memorySize,
        ...supervision,
      }),
    );
    this.directories = new MemberDirectories(node, HIERARCHY_DIRECTORY_PATH, () => this.handBackIfDue());
    this.progress = this.runtime.spawn(this.root, clusterProgress('cluster-hierarchy/progress'), { name: 'progress' });
    this.link = new LeaderLink(this.swarm, this.events, () => this.runtime.clock.now());
    this.runtime.spawn(this.root, stateless<HierarchyDirectoryMessage>((message) => this.directory(message)), { name: 'directory' });
    this.runtime.spawn(this.root, controlBehaviour<HierarchyControlMessage>((message) => answerOperator(this, message)), { name: 'control' });
  }

  /** Starts this node's part of the hierarchy and joins the cluster. */
  static async start(config: HierarchicalConfig, options: ClusterHierarchyOptions): Promise<ClusterHierarchicalDeployment> {
    checkOptions(config, options);
    const { parts, node } = await startClusterParts('hierarchical', options, 'http2');
    const hierarchy = new ClusterHierarchicalDeployment(config, options, parts, node);
    const progress = await readProgress(hierarchy.progress, 10_000);
    hierarchy.episodesRun = progress.episodes;
    hierarchy.link.advanceMarks(new Map(Object.entries(progress.marks)));
    hierarchy.directories.watch(options.checkMs ?? 2_000, () => void hierarchy.handBackIfDue());
    return hierarchy;
  }

  /** Whether this node's leader or standby aggregates now: the leader always; the standby while it reaches no leader. */
  acting(): boolean {
    if (this.role === 'leader') return true;
    if (this.role === 'worker') return false;
    // A member whose directory is not known yet may be the leader: wait for its answer rather than act beside it.
    return this.directories.addresses('leader').length === 0 && this.directories.unknown(false).length === 0;
  }

  /** Workers only: the leader and its standby are not counted. */
  protected override countedAgents(): number {
    return this.workers.length;
  }

  override run(options: RunOptions): Promise<DeploymentMetrics<'hierarchical'>> {
    return this.training.run(() => super.run(options));
  }

  protected async round(episode: number): Promise<void> {
    const lead = this.lead;
    const acting = lead !== undefined && this.acting();
    if (acting && this.role === 'standby' && this.baseline === undefined) await this.takeOver(lead, episode);
    const trainees = [...this.workers.map((worker) => ({ agent: worker, stream: worker.id })), ...(acting ? [{ agent: lead, stream: LEADER_STREAM }] : [])].filter(({ agent }) =>
      this.swarm.isLive(agent.id),
    );
    await Promise.all(trainees.map(({ agent, stream }) => this.swarm.train(agent, this.feed.episode(stream, episode), episode)));
    dispatch(this.progress, { type: 'trained', episode });
    if (!acting || episode % this.interval !== 0) return;
    if (!(await this.aggregate(lead, episode))) this.missed++;
  }

  private async aggregate(lead: AgentHandle, episode: number): Promise<boolean> {
    if (!this.swarm.isLive(lead.id)) return false;
    let inStep = false;
    const done = await this.link.aggregate(episode, {
      leader: lead,
      workers: [...this.workers.filter((worker) => this.swarm.isLive(worker.id)), ...this.directories.addresses('worker')],
      accuracyOf: (worker) => this.agentAccuracy.get(worker) ?? Number.NaN,
      ...(this.role === 'leader'
        ? {
            follow: async (held: readonly Pattern[]) => {
              inStep = await this.ship(held);
            },
          }
        : {}),
    });
    if (!done) return false;
    const marks = Object.fromEntries(this.link.currentMarks());
    dispatch(this.progress, { type: 'marks', marks });
    const standby = this.directories.reachable().find((agent) => agent.role === 'standby');
    if (inStep && standby !== undefined) dispatch(this.node.ref<HierarchyDirectoryMessage>(standby.node, HIERARCHY_DIRECTORY_PATH), { type: 'shipped', marks });
    if (this.tookOverAt !== undefined) {
      this.recoveries.push(this.runtime.clock.now() - this.tookOverAt);
      this.tookOverAt = undefined;
    }
    return true;
  }

  /**
   * Leader: ships the standby every pattern changed since its last shipment,
   * in frame-sized slices, and the ids the leader no longer holds (merged
   * away or evicted) with the last. True when the standby mirrors it.
   */
  private async ship(held: readonly Pattern[]): Promise<boolean> {
    const [standby] = this.directories.addresses('standby');
    // After a restart, a failed shipment or a hand-back, what the standby holds is unknown: it is asked, so that what the leader dropped meanwhile goes too.
    const shipped = standby === undefined ? undefined : this.shipped.size === 0 ? await this.idsOf(standby) : [...this.shipped.keys()];
    const changed = held.filter((pattern) => this.shipped.get(pattern.id) !== pattern.version);
    const holds = new Set(held.map((pattern) => pattern.id));
    const gone = shipped?.filter((id) => !holds.has(id)) ?? [];
    if (standby === undefined || shipped === undefined || !(await this.giveInSlices(standby, changed, gone))) {
      this.shipped = new Map();
      return false;
    }
    for (const id of gone) this.shipped.delete(id);
    for (const pattern of changed) this.shipped.set(pattern.id, pattern.version);
    return true;
  }

  /** Every pattern id `agent` holds, page by page; undefined when it did not answer. */
  private async idsOf(agent: AgentAddress): Promise<string[] | undefined> {
    const ids: string[] = [];
    for (;;) {
      const after = ids.at(-1);
      const page = await this.swarm.request(agent, (replyTo: ActorRef<IdsReply>) => ({ type: 'ids', ...(after === undefined ? {} : { after }), limit: IDS_PER_PAGE, replyTo }));
      if (page?.ok !== true) return undefined;
      // A page that does not move past the last ends it too: a faulty peer saying "more" forever must not keep the leader asking.
      if (page.ids.length === 0 || page.ids.at(-1) === after) return ids;
      ids.push(...page.ids);
      if (!page.more) return ids;
    }
  }

  /** Gives `patterns` in slices that each fit a network frame, removing `remove` with the last; true when every slice was taken. */
  private async giveInSlices(to: AgentAddress, patterns: readonly Pattern[], remove: readonly string[] = []): Promise<boolean> {
    if (patterns.length === 0 && remove.length === 0) return true;
    const limit = sliceLimit(this.swarm.bundleSpace);
    const slices = Math.max(1, Math.ceil(patterns.length / limit));
    for (let n = 0; n < slices; n++) {
      const reply = await this.swarm.give(to, patterns.slice(n * limit, (n + 1) * limit), undefined, n === slices - 1 ? remove : undefined);
      if (reply?.ok !== true) return false;
    }
    return true;
  }

  /** Standby: no leader reachable, so it begins acting, remembering what it holds so that it can give back what it changes. */
  private async takeOver(lead: AgentHandle, episode: number): Promise<void> {
    const held = await this.link.held(lead);
    if (held === undefined) return;
    this.baseline = new Map(held.map((pattern) => [pattern.id, pattern.version]));
    const at = this.runtime.clock.now();
    this.tookOverAt = at;
    this.link.forgetPushes();
    this.failovers.push({ from: 'leader', to: lead.id, episode, at });
    this.events.publish({ type: 'take-over', agent: lead.id, episode, at });
  }

  /** Standby that acted and reaches a leader again: gives back what it changed, then its marks, and follows again. */
  private handBackIfDue(): Promise<void> {
    if (this.halted || this.role !== 'standby' || this.baseline === undefined || this.lead === undefined) return Promise.resolve();
    const [leader] = this.directories.addresses('leader');
    const leaderNode = this.directories.reachable().find((agent) => agent.role === 'leader')?.node;
    if (leader === undefined || leaderNode === undefined) return Promise.resolve();
    const lead = this.lead;
    const baseline = this.baseline;
    // Not while a round trains or aggregates as the acting leader: what it changes must be in what is given back.
    this.handingBack ??= this.training.run(async () => {
      const held = await this.link.held(lead);
      if (held === undefined) return;
      const changed = held.filter((pattern) => baseline.get(pattern.id) !== pattern.version);
      if (!(await this.giveInSlices(leader, changed))) return;
      const marks = Object.fromEntries(this.link.currentMarks());
      const directory = this.node.ref<HierarchyDirectoryMessage>(leaderNode, HIERARCHY_DIRECTORY_PATH);
      const accepted = await ask(directory, (replyTo: ActorRef<true>) => ({ type: 'hand-back', marks, replyTo }), this.timeout).catch(() => false);
      if (accepted !== true) return;
      this.baseline = undefined;
      this.handBacks++;
      this.events.publish({ type: 'hand-back', from: lead.id, to: leader.id, patterns: changed.length, at: this.runtime.clock.now() });
    }).finally(() => {
      this.handingBack = undefined;
    });
    return this.handingBack;
  }

  protected async evaluate(episode: number): Promise<CurvePoint> {
    const lead = this.lead !== undefined && this.swarm.isLive(this.lead.id) ? this.lead : undefined;
    const acting = lead !== undefined && this.acting();
    // The acting leader weighs every worker it aggregates; other nodes judge their own.
    const workers = [...this.workers.filter((worker) => this.swarm.isLive(worker.id)), ...(acting ? this.directories.addresses('worker') : [])];
    const held = await this.swarm.heldOutCalls([...(lead === undefined ? [] : [lead]), ...workers], this.feed);
    const scores = this.swarm.scores(held, this.feed);
    for (const agent of [...(lead === undefined ? [] : [lead]), ...workers]) this.agentAccuracy.set(agent.id, scores.get(agent.id)?.accuracy ?? Number.NaN);
    const accuracies = workers.map((worker) => scores.get(worker.id)?.accuracy ?? Number.NaN).filter(Number.isFinite);
    this.workerAccuracy = accuracies.length === 0 ? Number.NaN : accuracies.reduce((a, b) => a + b, 0) / accuracies.length;
    const series = this.feed.held.series;
    const oracle = mergeScores(held.oracle.map((calls) => scoreCalls(series, calls)));
    const steps = held.oracle.reduce((n, calls) => n + calls.steps.length, 0);
    // A node with a leader or standby reports it, as the in-process hierarchy reports its acting leader; a worker node its workers.
    const judged = (lead === undefined ? workers : [lead]).flatMap((agent) => scores.get(agent.id) ?? []);
    const metrics = lead === undefined ? undefined : await this.swarm.metricsOf(lead);
    this.leaderPatterns = metrics?.patterns ?? Number.NaN;
    return {
      episode,
      accuracy: lead === undefined ? this.workerAccuracy : (scores.get(lead.id)?.accuracy ?? Number.NaN),
      oracleAccuracy: oracle.accuracy,
      decidedFraction: steps === 0 || judged.length === 0 ? 0 : judged.reduce((n, score) => n + score.decided, 0) / (steps * judged.length),
      patterns: metrics?.patterns ?? 0,
    };
  }

  /** Each local agent's pattern ids. */
  async patternIds(): Promise<Map<string, string[]>> {
    const agents = [...(this.lead === undefined ? [] : [this.lead]), ...this.workers];
    const entries = await Promise.all(agents.map(async (agent) => [agent.id, ((await this.link.held(agent)) ?? []).map((p) => p.id).sort()] as const));
    return new Map(entries);
  }

  async status(): Promise<ClusterHierarchyStatus> {
    const ids = await this.patternIds();
    const link = this.link.metrics();
    return {
      node: this.node.id,
      role: this.role,
      incarnation: this.node.incarnation,
      episodes: this.episodesRun,
      acting: this.lead !== undefined && this.acting(),
      agents: this.ownAgents().map((agent) => ({ id: agent.id, role: agent.role, live: this.swarm.isLive(agent.id), patternIds: ids.get(agent.id) ?? [] })),
      members: this.node.members().map(({ node, status }) => ({ node, status })),
      reachableWorkers: this.workers.filter((worker) => this.swarm.isLive(worker.id)).length + this.directories.addresses('worker').length,
      marks: Object.fromEntries(this.link.currentMarks()),
      aggregations: link.aggregations,
      strategyUpdates: link.strategyUpdates,
      handBacks: this.handBacks,
    };
  }

  protected topologyMetrics(): TopologyMetrics['hierarchical'] {
    return {
      aggregationInterval: this.interval,
      standby: this.config.standby,
      leader: this.lead?.id ?? '',
      leaderLive: this.lead !== undefined && this.swarm.isLive(this.lead.id),
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

  override async stop(): Promise<void> {
    this.halted = true;
    this.directories.close();
    await this.handingBack;
    await this.node.stop();
    await super.stop();
  }

  private ownAgents(): ClusterAgent[] {
    const lead = this.lead === undefined ? [] : [{ id: this.lead.id, node: this.node.id, path: this.lead.path, role: this.role === 'leader' ? ('leader' as const) : ('standby' as const) }];
    return [...lead, ...this.workers.map((worker) => ({ id: worker.id, node: this.node.id, path: worker.path, role: 'worker' as const }))];
  }

  private directory(message: HierarchyDirectoryMessage): void {
    switch (message.type) {
      case 'agents':
        dispatch(message.replyTo, this.ownAgents());
        return;
      case 'shipped':
        // Only a following standby takes the leader's marks; one that acts keeps its own until it hands back.
        if (this.role !== 'standby' || this.baseline !== undefined) return;
        this.link.advanceMarks(new Map(Object.entries(message.marks)));
        dispatch(this.progress, { type: 'marks', marks: message.marks });
        return;
      case 'hand-back':
        if (this.role !== 'leader') return;
        this.link.advanceMarks(new Map(Object.entries(message.marks)));
        // The standby's versions are now the leader's: push and ship everything afresh.
        this.link.forgetPushes();
        this.shipped = new Map();
        dispatch(this.progress, { type: 'marks', marks: Object.fromEntries(this.link.currentMarks()) });
        dispatch(message.replyTo, true);
        return;
    }
  }
}

function localWorkers(options: ClusterHierarchyOptions): number {
  return options.localWorkers ?? (options.role === 'worker' ? 1 : 0);
}

function checkOptions(config: HierarchicalConfig, options: ClusterHierarchyOptions): void {
  const roles: readonly string[] = ['leader', 'standby', 'worker'];
  if (!roles.includes(options.role)) throw new RangeError(`role must be leader, standby or worker, got ${JSON.stringify(options.role)}`);
  if (options.role === 'standby' && !config.standby) throw new RangeError('role standby needs a config with standby: true');
  const workers = localWorkers(options);
  const least = options.role === 'worker' ? 1 : 0;
  if (!Number.isInteger(workers) || workers < least || workers > config.workers.count) {
    throw new RangeError(`localWorkers must be an integer in [${least}, workers.count = ${config.workers.count}] on a ${options.role} node, got ${workers}`);
  }
  const interval = options.aggregationInterval ?? 1;
  if (!Number.isSafeInteger(interval) || interval < 1) throw new RangeError(`aggregationInterval must be a positive integer, got ${interval}`);
}
