import { ask } from '../actors/ask.js';
import type { ActorRef } from '../actors/ref.js';
import { DEFAULT_SCREEN } from '../agents/recent.js';
import type { CurvePoint } from '../learning/scenarios/curve.js';
import type { Direction } from '../market/outcomes.js';
import type { MeshConfig } from './config.js';
import type { DeployOptions, TopologyMetrics } from './deployment.js';
import { callsOn, MeshTally } from './mesh-tally.js';
import { replicator, type PulledFrom, type ReplicatorMessage } from './replicator.js';
import type { AgentHandle } from './swarm.js';
import { SwarmDeployment } from './swarm-deployment.js';
import { consensus } from './vote.js';

/** A consensus decision and the vote behind it. */
export interface MeshDecision {
  /** 1 (up), −1 (down), or 0 when the live agents did not reach the threshold. */
  readonly direction: Direction;
  readonly votes: { readonly up: number; readonly down: number; readonly flat: number };
  /** Agents that answered. */
  readonly live: number;
  readonly threshold: number;
}

interface MeshNode {
  readonly agent: AgentHandle;
  readonly replicator: ActorRef<ReplicatorMessage>;
}

/**
 * Mesh: N peer agents and no leader. Each round every live agent trains on
 * its own instrument and commits; then every live node pulls, through its
 * replicator, what each live peer originated since its high-water mark, so
 * a pattern committed anywhere is in every live memory by the end of the
 * round. Decisions are votes: on each held-out step the mesh calls up or
 * down when at least `consensusThreshold` of the live agents agree, and
 * abstains otherwise. A killed agent misses rounds while supervision
 * restarts it; its memory survives on disk, and its first pull after the
 * restart brings everything it missed.
 *
 * Arriving patterns are validated (feature space, fields, ranges) and, with
 * `validateOnRecentData`, screened against what the receiver trained on
 * lately; refused ones are counted. Each agent ships only the patterns it
 * originated: its updates to a peer's pattern stay local and yield to the
 * origin's next version, so every pattern has one writer and replicas
 * converge without conflicts.
 */
export class MeshDeployment extends SwarmDeployment<'mesh'> {
  private readonly nodes: MeshNode[];
  private readonly tally: MeshTally;
  private readonly timeout: number;

  private constructor(config: MeshConfig, options: DeployOptions) {
    super('mesh', config, SwarmDeployment.prepare('mesh', options));
    const timeout = options.askTimeoutMs ?? 30_000;
    this.timeout = timeout;
    this.tally = new MeshTally(this.swarm, this.events);
    this.nodes = Array.from({ length: config.agentCount }, (_, i) => {
      const agent = this.swarm.spawn(this.root, {
        id: `agent-${i + 1}`,
        learningRate: config.learningRate,
        ...(options.agentSupervision === undefined ? {} : { supervision: options.agentSupervision }),
      });
      const screen = config.validateOnRecentData ? DEFAULT_SCREEN : undefined;
      const sync = this.runtime.spawn(this.root, replicator(agent, this.swarm.bundleSpace, this.swarm.requester, screen === undefined ? {} : { screen }), { name: `sync-${agent.id}` });
      return { agent, replicator: sync };
    });
  }

  static create(config: MeshConfig, options: DeployOptions = {}): MeshDeployment {
    return new MeshDeployment(config, options);
  }

  protected async round(episode: number): Promise<void> {
    const now = () => this.runtime.clock.now();
    const committed = new Map<string, number>();
    await Promise.all(
      this.swarm.live().map(async (agent) => {
        const reply = await this.swarm.train(agent, this.feed.episode(agent.id, episode), episode);
        if (reply?.ok === true && reply.result.created + reply.result.updated > 0) committed.set(agent.id, now());
      }),
    );
    const pulls = await this.pullAll();
    for (const [origin, at] of committed) {
      const arrivals = pulls.filter(({ node }) => node.agent.id !== origin).map(({ reports }) => reports.find((r) => r.origin === origin));
      // Latency counts only when every live peer has the origin's commit.
      if (arrivals.length > 0 && arrivals.every((r) => r?.reached === true)) this.tally.latencies.push(Math.max(...arrivals.map((r) => r!.at)) - at);
    }
  }

  /**
   * An anti-entropy round without training: every live node pulls what it
   * lacks from every live peer. Rounds do this after training; call it to
   * settle the mesh before reading the memories, e.g. once agents that were
   * down are back. Resolves with the patterns it moved.
   */
  async sync(): Promise<number> {
    const pulls = await this.pullAll();
    return pulls.reduce((n, { reports }) => n + reports.reduce((m, r) => m + r.patterns, 0), 0);
  }

  private async pullAll(): Promise<{ readonly node: MeshNode; readonly reports: readonly PulledFrom[] }[]> {
    const live = this.nodes.filter((node) => this.swarm.isLive(node.agent.id));
    const pulls = await Promise.all(
      live.map(async (node) => {
        const sources = live.filter((other) => other !== node).map((other) => ({ id: other.agent.id, ref: other.agent.ref }));
        this.swarm.count(1);
        const reports = await ask(node.replicator, (replyTo: ActorRef<readonly PulledFrom[]>) => ({ type: 'pull', sources, replyTo }), this.timeout).catch(() => undefined);
        return { node, reports: reports ?? [] };
      }),
    );
    this.tally.recordPulls(pulls.map(({ node, reports }) => ({ to: node.agent.id, reports })));
    return pulls;
  }

  protected async evaluate(episode: number): Promise<CurvePoint> {
    const { point, tally, voters } = await this.voteEvaluation(episode, this.config.consensusThreshold);
    this.tally.recordVote(episode, tally, voters, this.runtime.clock.now());
    return point;
  }

  /**
   * The mesh's decision on one feature vector, now: every live agent calls
   * it, and the call stands when at least `consensusThreshold` of them agree.
   * What a service embedding the mesh answers a request with.
   */
  async decide(features: Float32Array): Promise<MeshDecision> {
    const { calls, votes } = await callsOn(this.swarm, this.swarm.live(), features);
    return { direction: consensus(calls, calls.length, this.config.consensusThreshold), votes, live: calls.length, threshold: this.config.consensusThreshold };
  }

  protected topologyMetrics(): TopologyMetrics['mesh'] {
    return this.tally.metrics(this.config, this.config.syncProtocol);
  }
}
