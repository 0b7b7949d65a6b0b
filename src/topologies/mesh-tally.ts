import type { ActorRef } from '../actors/ref.js';
import { FeatureDimensionsError } from '../agents/errors.js';
import type { PredictReply } from '../agents/messages.js';
import type { Direction } from '../market/outcomes.js';
import type { MeshConfig } from './config.js';
import type { TopologyMetrics } from './deployment.js';
import { summarize, type VoteTally } from './evaluation.js';
import type { DeploymentEvents } from './events.js';
import type { PulledFrom } from './replicator.js';
import type { AgentAddress, Swarm } from './swarm.js';

/** One agent's pull: the agent that pulled, and what its replicator reported per origin. */
export interface AgentPull {
  readonly to: string;
  readonly reports: readonly PulledFrom[];
}

/**
 * What a mesh counts, whether its agents share a process or not: patterns
 * replicated and refused, sync latencies, and the last evaluation's votes.
 */
export class MeshTally {
  readonly latencies: number[] = [];
  replicated = 0;
  private refused = 0;
  private votesDecided = 0;
  private abstentions = 0;

  constructor(
    private readonly swarm: Swarm,
    private readonly events: DeploymentEvents,
  ) {}

  /** Counts the pulls' bytes and patterns, and publishes a `sync` event for each origin that moved something. */
  recordPulls(pulls: readonly AgentPull[]): void {
    for (const { to, reports } of pulls) {
      for (const report of reports) {
        this.swarm.count(0, report.bytes);
        this.replicated += report.patterns;
        this.refused += report.refused;
        if (report.patterns + report.refused > 0) {
          this.events.publish({ type: 'sync', from: report.origin, to, patterns: report.patterns, refused: report.refused, bytes: report.bytes, at: report.at });
        }
      }
    }
  }

  recordVote(episode: number, tally: VoteTally, voters: number, at: number): void {
    this.votesDecided = tally.decided;
    this.abstentions = tally.abstained;
    this.events.publish({ type: 'vote', episode, decided: tally.decided, abstained: tally.abstained, live: voters, at });
  }

  metrics(config: MeshConfig, syncProtocol: string): TopologyMetrics['mesh'] {
    return {
      consensusThreshold: config.consensusThreshold,
      syncProtocol,
      syncLatency: summarize(this.latencies),
      syncLatenciesMs: [...this.latencies],
      patternsReplicated: this.replicated,
      patternsRefused: this.refused,
      votesDecided: this.votesDecided,
      abstentions: this.abstentions,
      abstentionRate: this.votesDecided + this.abstentions === 0 ? 0 : this.abstentions / (this.votesDecided + this.abstentions),
    };
  }
}

/** Every voter's call on one feature vector (those that answered), and the count of each direction. */
export async function callsOn(
  swarm: Swarm,
  voters: readonly AgentAddress[],
  features: Float32Array,
): Promise<{ readonly calls: readonly Direction[]; readonly votes: { readonly up: number; readonly down: number; readonly flat: number } }> {
  const { dimensions } = swarm.space;
  if (!(features instanceof Float32Array) || features.length !== dimensions) throw new FeatureDimensionsError(dimensions, features?.length ?? 0, 'the feature vector');
  const replies = await Promise.all(voters.map((agent) => swarm.request(agent, (replyTo: ActorRef<PredictReply>) => ({ type: 'predict', features, replyTo }))));
  const calls = replies.flatMap((reply) => (reply?.ok === true ? [reply.prediction.direction] : []));
  return { calls, votes: { up: calls.filter((c) => c > 0).length, down: calls.filter((c) => c < 0).length, flat: calls.filter((c) => c === 0).length } };
}
