import { ask, dispatch } from '../actors/ask.js';
import { stateless } from '../actors/behaviour.js';
import type { ActorRef } from '../actors/ref.js';
import type { ChangesReply, ExportReply } from '../agents/messages.js';
import { DEFAULT_SCREEN } from '../agents/recent.js';
import type { CurvePoint } from '../learning/scenarios/curve.js';
import type { MemberInfo, Node, NodeOptions } from '../net/node.js';
import { clusterProgress, type ProgressMessage, readProgress } from './cluster-progress.js';
import { answerOperator, controlBehaviour, OneAtATime, type OperatorMessage, startClusterParts } from './cluster-node.js';
import type { MeshConfig } from './config.js';
import type { DeploymentMetrics, DeployOptions, RunOptions, TopologyMetrics } from './deployment.js';
import { summarize } from './evaluation.js';
import type { MeshDecision } from './mesh.js';
import { type AgentsQuery, type ClusterAgent, MemberDirectories } from './member-directories.js';
import { callsOn, MeshTally } from './mesh-tally.js';
import { type OfferedChanges, type PulledFrom, type PullSource, replicator, type ReplicatorMessage, sliceLimit } from './replicator.js';
import type { AgentAddress, AgentHandle } from './swarm.js';
import { type DeploymentParts, SwarmDeployment } from './swarm-deployment.js';
import { consensus } from './vote.js';

export interface ClusterMeshOptions extends DeployOptions {
  /** This node; its runtime is the deployment's own. `protocol` defaults from the config's `syncProtocol`. */
  readonly node: Omit<NodeOptions, 'runtime'>;
  /** Agents hosted on this node. The config's `agentCount` counts the whole cluster's, for the quorum. */
  readonly localAgents: number;
  /** Besides the pull that every commit notice triggers, every agent pulls from every reachable agent this often. Default 2,000 ms; 0 never. */
  readonly antiEntropyMs?: number;
}

export interface ClusterDecision extends MeshDecision {
  /** Voters needed to decide: a strict majority of the config's `agentCount`. */
  readonly quorum: number;
  /** Set when the node abstained because too few agents answered: it is on the minority side of a partition. */
  readonly abstainedFor?: 'no-quorum';
}

export interface ClusterMeshStatus {
  readonly node: string;
  readonly incarnation: string;
  readonly episodes: number;
  readonly agents: readonly { readonly id: string; readonly live: boolean; readonly patternIds: readonly string[] }[];
  readonly members: readonly Pick<MemberInfo, 'node' | 'status'>[];
  /** Agents answering from here now: local live ones and those of members up. */
  readonly reachableAgents: number;
  readonly quorum: number;
  readonly patternsReplicated: number;
  readonly syncLatencyP99Ms: number;
  /** The last commits of other nodes' agents that reached every local agent: when committed and when landed, on the wall clock in ms. */
  readonly recentSyncs: readonly SyncArrival[];
}

export interface SyncArrival {
  readonly origin: string;
  readonly committedAt: number;
  readonly landedAt: number;
}

/** What other nodes ask this node's directory. */
export type DirectoryMessage =
  | AgentsQuery
  /**
   * A peer's agent committed patterns at `at` (the peer's wall clock, in ms
   * with a fraction): pull from it now. `offered` carries the changes themselves when they fit in
   * one slice, so a node in step with the origin takes them without asking.
   */
  | { readonly type: 'committed'; readonly origin: string; readonly at: number; readonly offered?: OfferedChanges };

/** What an operator (the CLI, a test harness, another service) may ask of a node's mesh. */
export type ClusterControlMessage =
  | OperatorMessage<ClusterMeshStatus>
  | { readonly type: 'sync'; readonly replyTo: ActorRef<number> }
  | { readonly type: 'decide'; readonly features: Float32Array; readonly replyTo: ActorRef<ClusterDecision> };

export const DIRECTORY_PATH = '/mesh/directory';
export const CONTROL_PATH = '/mesh/control';
/** How many arrivals `status` reports. */
const RECENT_SYNCS = 1_024;

/** The wall clock with a fraction of a millisecond, comparable across the processes of one machine. */
function wallClock(): number {
  return performance.timeOrigin + performance.now();
}

interface LocalNode {
  readonly agent: AgentHandle;
  readonly replicator: ActorRef<ReplicatorMessage>;
}

/**
 * The mesh across processes: each node hosts some of the mesh's agents,
 * each with its replicator, and a `Node` joins them to the other nodes.
 * Sync is the in-process mesh's, over remote refs: every agent keeps per
 * origin the high-water mark of that origin's journal it holds and pulls
 * exactly what is past it, so a node back from a disconnect or a restart
 * (its memories and marks are on disk) fetches what it missed and nothing
 * more. A commit is announced to every member up, which pulls at once; an
 * anti-entropy pull on a timer and on every `member-up` catches whatever a
 * lost announcement missed.
 *
 * Votes need a quorum: a strict majority of the config's `agentCount` must
 * answer before the consensus threshold applies, so the minority side of a
 * partition abstains from votes it cannot win while the majority goes on.
 */
export class ClusterMeshDeployment extends SwarmDeployment<'mesh'> {
  readonly node: Node;
  private readonly locals: LocalNode[];
  private readonly directories: MemberDirectories;
  private readonly notices = new Map<string, number>();
  private readonly arrivals: SyncArrival[] = [];
  /** Per origin, the changes it offered last and no pull has used yet. */
  private readonly offers = new Map<string, OfferedChanges>();
  /** Per local agent, its journal position its last commit notice covered: where the next offer starts. */
  private readonly announced = new Map<string, number>();
  private readonly tally: MeshTally;
  private readonly timeout: number;
  private readonly quorum: number;
  private pulling: Promise<void> | undefined;
  private wanted: Set<string> | 'all' | undefined;
  private halted = false;
  private readonly training = new OneAtATime();
  private readonly progress: ActorRef<ProgressMessage>;

  private constructor(config: MeshConfig, options: ClusterMeshOptions, parts: DeploymentParts, node: Node) {
    super('mesh', config, parts);
    this.node = node;
    this.tally = new MeshTally(this.swarm, this.events);
    this.timeout = options.askTimeoutMs ?? 10_000;
    this.quorum = Math.floor(config.agentCount / 2) + 1;
    this.directories = new MemberDirectories(node, DIRECTORY_PATH, () => this.pullAll());
    const screen = config.validateOnRecentData ? DEFAULT_SCREEN : undefined;
    this.locals = Array.from({ length: options.localAgents }, (_, i) => {
      const agent = this.swarm.spawn(this.root, {
        id: `${node.id}-agent-${i + 1}`,
        learningRate: config.learningRate,
        ...(options.agentSupervision === undefined ? {} : { supervision: options.agentSupervision }),
      });
      const sync = this.runtime.spawn(this.root, replicator(agent, this.swarm.bundleSpace, this.swarm.requester, screen === undefined ? {} : { screen }), { name: `sync-${agent.id}` });
      return { agent, replicator: sync };
    });
    this.progress = this.runtime.spawn(this.root, clusterProgress('cluster-mesh/progress'), { name: 'progress' });
    this.runtime.spawn(this.root, stateless<DirectoryMessage>((message) => this.directory(message)), { name: 'directory' });
    this.runtime.spawn(this.root, controlBehaviour<ClusterControlMessage>((message) => this.control(message)), { name: 'control' });
  }

  /** Starts this node's part of the mesh and joins the cluster. */
  static async start(config: MeshConfig, options: ClusterMeshOptions): Promise<ClusterMeshDeployment> {
    if (!Number.isInteger(options.localAgents) || options.localAgents < 1 || options.localAgents > config.agentCount) {
      throw new RangeError(`localAgents must be an integer in [1, agentCount = ${config.agentCount}], got ${options.localAgents}`);
    }
    const { parts, node } = await startClusterParts('mesh', options, config.syncProtocol === 'quic' ? 'quic' : 'http2');
    const mesh = new ClusterMeshDeployment(config, options, parts, node);
    // A node back from a restart trains on from the episode after its last, not on episodes it has learnt.
    mesh.episodesRun = (await readProgress(mesh.progress, 10_000)).episodes;
    await mesh.learnPositions();
    mesh.directories.watch(options.antiEntropyMs ?? 2_000, () => void mesh.pullAll());
    return mesh;
  }

  /** Every agent of the cluster this node knows of: its own, and those of every member it has reached. */
  agents(): ClusterAgent[] {
    return [...this.ownAgents(), ...this.directories.reachable()];
  }

  private ownAgents(): ClusterAgent[] {
    return this.locals.map(({ agent }) => ({ id: agent.id, node: this.node.id, path: agent.path, role: 'peer' }));
  }

  protected async round(episode: number): Promise<void> {
    const committed: string[] = [];
    const committedAt = new Map<string, number>();
    const offered = new Map<string, OfferedChanges>();
    await Promise.all(
      this.swarm.live().map(async (agent) => {
        const reply = await this.swarm.train(agent, this.feed.episode(agent.id, episode), episode);
        const patterns = reply?.ok === true ? reply.result.created + reply.result.updated : 0;
        if (patterns === 0) return;
        committed.push(agent.id);
        committedAt.set(agent.id, wallClock());
        const offer = await this.offerOf(agent);
        if (offer !== undefined) offered.set(agent.id, offer);
        this.events.publish({ type: 'commit', agent: agent.id, patterns, at: this.runtime.clock.now() });
      }),
    );
    dispatch(this.progress, { type: 'trained', episode });
    for (const member of this.node.up()) {
      const directory = this.node.ref<DirectoryMessage>(member, DIRECTORY_PATH);
      for (const origin of committed) {
        const offer = offered.get(origin);
        dispatch(directory, { type: 'committed', origin, at: committedAt.get(origin)!, ...(offer === undefined ? {} : { offered: offer }) });
      }
    }
    // This node's own agents learn from each other here; other nodes' commits come with their notices.
    for (const [origin, offer] of offered) this.offers.set(origin, offer);
    if (committed.length > 0) await this.pullAll(committed);
  }

  /**
   * What `agent` originated since its last notice, to send with this one;
   * undefined when it does not fit one slice (peers then pull it in slices)
   * or the agent did not answer.
   */
  private async offerOf(agent: AgentHandle): Promise<OfferedChanges | undefined> {
    const from = this.announced.get(agent.id);
    if (from === undefined) return undefined;
    const limit = sliceLimit(this.swarm.bundleSpace);
    const reply = await this.swarm.request(agent, (replyTo: ActorRef<ChangesReply>) => ({ type: 'changes', since: from, limit, replyTo }));
    if (reply?.ok !== true) return undefined;
    this.announced.set(agent.id, reply.seq);
    return reply.more ? undefined : { from, seq: reply.seq, bundle: reply.bundle };
  }

  /** Where each local agent's journal is now: nothing is newer than the safe-integer limit, so the reply's seq is its position. */
  private async learnPositions(): Promise<void> {
    await Promise.all(
      this.locals.map(async ({ agent }) => {
        const reply = await this.swarm.request(agent, (replyTo: ActorRef<ChangesReply>) => ({ type: 'changes', since: Number.MAX_SAFE_INTEGER, replyTo }));
        if (reply?.ok === true) this.announced.set(agent.id, reply.seq);
      }),
    );
  }

  /** Runs episodes as every deployment does, one run at a time: a control message's run waits for the command line's. */
  override run(options: RunOptions): Promise<DeploymentMetrics<'mesh'>> {
    return this.training.run(() => super.run(options));
  }

  /**
   * One training round on this node's agents, announced to the cluster, with
   * no held-out evaluation (so no point on the learning curve): what a node
   * fed live data does between evaluations.
   */
  trainRound(): Promise<void> {
    return this.training.run(async () => {
      const episode = this.episodesRun + 1;
      await this.round(episode);
      this.episodesRun = episode;
    });
  }

  /** Anti-entropy now: every local agent pulls what it lacks from every reachable agent. Resolves with the patterns moved. */
  async sync(): Promise<number> {
    // A member that just came up may not have told us its agents yet: ask it now rather than miss them.
    await Promise.all(this.directories.unknown(false).map((member) => this.directories.learn(member)));
    const before = this.tally.replicated;
    await this.pullAll();
    return this.tally.replicated - before;
  }

  protected async evaluate(episode: number): Promise<CurvePoint> {
    const { point, tally, voters } = await this.voteEvaluation(episode, this.config.consensusThreshold, { remoteVoters: this.reachableRemote(), quorum: this.quorum });
    this.tally.recordVote(episode, tally, voters, this.runtime.clock.now());
    return point;
  }

  /** The cluster's call on one feature vector: every reachable agent votes; short of a quorum, the node abstains. */
  async decide(features: Float32Array): Promise<ClusterDecision> {
    const { calls, votes } = await callsOn(this.swarm, [...this.swarm.live(), ...this.reachableRemote()], features);
    const threshold = this.config.consensusThreshold;
    const base = { votes, live: calls.length, threshold, quorum: this.quorum };
    if (calls.length < this.quorum) return { ...base, direction: 0, abstainedFor: 'no-quorum' };
    return { ...base, direction: consensus(calls, calls.length, threshold) };
  }

  /** Each local agent's pattern ids. */
  async patternIds(): Promise<Map<string, string[]>> {
    const entries = await Promise.all(
      this.locals.map(async ({ agent }) => {
        const reply = await this.swarm.request(agent, (replyTo: ActorRef<ExportReply>) => ({ type: 'export', replyTo }));
        return [agent.id, reply?.ok === true ? this.swarm.patternsOf(reply.bundle).map((p) => p.id).sort() : []] as const;
      }),
    );
    return new Map(entries);
  }

  async status(): Promise<ClusterMeshStatus> {
    const ids = await this.patternIds();
    return {
      node: this.node.id,
      incarnation: this.node.incarnation,
      episodes: this.episodesRun,
      agents: this.locals.map(({ agent }) => ({ id: agent.id, live: this.swarm.isLive(agent.id), patternIds: ids.get(agent.id) ?? [] })),
      members: this.node.members().map(({ node, status }) => ({ node, status })),
      reachableAgents: this.swarm.live().length + this.reachableRemote().length,
      quorum: this.quorum,
      patternsReplicated: this.tally.replicated,
      syncLatencyP99Ms: summarize(this.tally.latencies).p99Ms,
      recentSyncs: [...this.arrivals],
    };
  }

  protected topologyMetrics(): TopologyMetrics['mesh'] {
    return this.tally.metrics(this.config, this.node.protocol ?? this.config.syncProtocol);
  }

  override async stop(): Promise<void> {
    this.halted = true;
    this.directories.close();
    await this.pulling;
    await this.node.stop();
    await super.stop();
  }

  private reachableRemote(): AgentAddress[] {
    return this.directories.addresses();
  }

  /**
   * One pull at a time. A request made during a pull is remembered and runs
   * once the pull ends, merged with every other request made meanwhile: a
   * commit notice or a local commit asks only for its origins (so a node does
   * not wait on busy bystanders), a join or the anti-entropy timer for every
   * reachable agent.
   */
  private pullAll(origins?: readonly string[]): Promise<void> {
    if (this.halted) return Promise.resolve();
    this.wanted = origins === undefined || this.wanted === 'all' ? 'all' : new Set([...(this.wanted ?? []), ...origins]);
    this.pulling ??= (async () => {
      try {
        while (this.wanted !== undefined && !this.halted) {
          const wanted = this.wanted;
          this.wanted = undefined;
          await this.pullOnce(wanted);
        }
      } finally {
        this.pulling = undefined;
      }
    })();
    return this.pulling;
  }

  private async pullOnce(wanted: ReadonlySet<string> | 'all'): Promise<void> {
    const live = this.locals.filter((local) => this.swarm.isLive(local.agent.id));
    const everyone: AgentAddress[] = [...live.map(({ agent }) => agent), ...this.reachableRemote()].filter((a) => wanted === 'all' || wanted.has(a.id));
    const notices = new Map(this.notices);
    const offers = new Map(this.offers);
    const pulls = await Promise.all(
      live.map(async (local) => {
        const sources: PullSource[] = everyone.filter((a) => a.id !== local.agent.id).map((a) => ({ id: a.id, ref: a.ref, ...withOffer(offers.get(a.id)) }));
        if (sources.length === 0) return { local, reports: [] };
        this.swarm.count(1);
        const reports = await ask(local.replicator, (replyTo: ActorRef<readonly PulledFrom[]>) => ({ type: 'pull', sources, replyTo }), this.timeout).catch(() => undefined);
        return { local, reports: reports ?? [] };
      }),
    );
    const landed = wallClock();
    // An offer is used once: a later pull from its origin asks, or takes a newer offer.
    for (const [origin, offer] of offers) if (this.offers.get(origin) === offer) this.offers.delete(origin);
    this.tally.recordPulls(pulls.map(({ local, reports }) => ({ to: local.agent.id, reports })));
    // A notice is answered once every local agent reached its origin.
    for (const [origin, at] of notices) {
      if (pulls.length > 0 && pulls.every(({ reports }) => reports.some((r) => r.origin === origin && r.reached))) {
        this.tally.latencies.push(landed - at);
        this.arrivals.push({ origin, committedAt: at, landedAt: landed });
        if (this.arrivals.length > RECENT_SYNCS) this.arrivals.splice(0, this.arrivals.length - RECENT_SYNCS);
        if (this.notices.get(origin) === at) this.notices.delete(origin);
      }
    }
  }

  private directory(message: DirectoryMessage): void {
    if (message.type === 'agents') {
      dispatch(message.replyTo, this.ownAgents());
      return;
    }
    if (!this.notices.has(message.origin)) this.notices.set(message.origin, message.at);
    // A malformed offer (from a faulty peer) is ignored: the pull then asks the origin itself.
    if (isOffer(message.offered)) this.offers.set(message.origin, message.offered);
    void this.pullAll([message.origin]);
  }

  private async control(message: ClusterControlMessage): Promise<void> {
    switch (message.type) {
      case 'sync':
        dispatch(message.replyTo, await this.sync());
        return;
      case 'decide':
        dispatch(message.replyTo, await this.decide(message.features));
        return;
      default:
        return answerOperator(this, message);
    }
  }
}

function withOffer(offered: OfferedChanges | undefined): { offered?: OfferedChanges } {
  return offered === undefined ? {} : { offered };
}

function isOffer(value: OfferedChanges | undefined): value is OfferedChanges {
  return (
    value !== undefined &&
    Number.isSafeInteger(value.from) &&
    Number.isSafeInteger(value.seq) &&
    value.from >= 0 &&
    value.from <= value.seq &&
    value.bundle instanceof Uint8Array
  );
}
