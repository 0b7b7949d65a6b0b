import { ask } from '../actors/ask.js';
import type { ActorRef } from '../actors/ref.js';
import type { AgentMessage } from '../agents/messages.js';
import type { Node } from '../net/node.js';
import type { AgentAddress } from './swarm.js';

/** What part an agent plays in a cluster deployment: a mesh peer, or a hierarchy's leader, standby or worker. */
export type ClusterRole = 'peer' | 'leader' | 'standby' | 'worker';

/** An agent as the cluster knows it. */
export interface ClusterAgent {
  readonly id: string;
  readonly node: string;
  readonly path: string;
  readonly role: ClusterRole;
}

/** What every node's directory answers: the agents it hosts. */
export interface AgentsQuery {
  readonly type: 'agents';
  readonly replyTo: ActorRef<readonly ClusterAgent[]>;
}

/** A directory answers at once from memory; a member whose directory is silent this long has none. */
const DIRECTORY_TIMEOUT_MS = 2_000;

/**
 * What this node knows of the other members' agents, learnt by asking each
 * member's directory actor (at `path`) when it comes up. One question per
 * member at a time, so a join, a sync and a timer share it. A member whose
 * directory does not answer (a client-only node, such as a service that only
 * asks, or a member too busy to answer) is marked silent: callers stop
 * waiting for it, and `learnUnknown` asks again in the background.
 */
export class MemberDirectories {
  private readonly known = new Map<string, readonly ClusterAgent[]>();
  private readonly silent = new Set<string>();
  private readonly learning = new Map<string, Promise<void>>();
  private closed = false;
  private timer: NodeJS.Timeout | undefined;
  private unsubscribe: (() => void) | undefined;

  constructor(
    private readonly node: Node,
    private readonly path: string,
    /** Runs after a member's agents are learnt (or learnt again): where a deployment pulls from them. */
    private readonly learned: (member: string) => Promise<void>,
  ) {}

  /** Asks `member` for its agents, unless a question to it is already out; resolves once answered (or given up) and `learned` ran. */
  learn(member: string): Promise<void> {
    let learning = this.learning.get(member);
    if (learning === undefined) {
      learning = this.ask(member).finally(() => this.learning.delete(member));
      this.learning.set(member, learning);
    }
    return learning;
  }

  /** A member (re)joined: ask it afresh, silent or not. */
  joined(member: string): Promise<void> {
    this.silent.delete(member);
    return this.learn(member);
  }

  /** Members up whose agents are not known yet; `includeSilent` false leaves out those whose directory did not answer. */
  unknown(includeSilent = true): string[] {
    return this.node.up().filter((member) => !this.known.has(member) && (includeSilent || !this.silent.has(member)));
  }

  /** The agents of every member up, as last learnt. */
  reachable(): ClusterAgent[] {
    return this.node.up().flatMap((member) => this.known.get(member) ?? []);
  }

  /** `reachable()` agents of `role`, as addresses a swarm can request from. */
  addresses(role?: ClusterRole): AgentAddress[] {
    return this.reachable()
      .filter((agent) => role === undefined || agent.role === role)
      .map((agent) => ({ id: agent.id, ref: this.node.ref<AgentMessage>(agent.node, agent.path) }));
  }

  /**
   * Learns every member up now and each as it comes up; every `everyMs`
   * (0: never) asks again those still unknown, then runs `tick`.
   */
  watch(everyMs: number, tick: () => void): void {
    this.unsubscribe = this.node.runtime.events.on('member-up', (event) => void this.joined(event.node));
    for (const member of this.node.up()) void this.learn(member);
    if (everyMs > 0) {
      this.timer = setInterval(() => {
        for (const member of this.unknown()) void this.learn(member);
        tick();
      }, everyMs);
    }
  }

  /** Stops watching and calling `learned`: the deployment is stopping. */
  close(): void {
    this.closed = true;
    clearInterval(this.timer);
    this.unsubscribe?.();
  }

  private async ask(member: string): Promise<void> {
    const directory = this.node.ref<AgentsQuery>(member, this.path);
    const agents = await ask(directory, (replyTo: ActorRef<readonly ClusterAgent[]>) => ({ type: 'agents', replyTo }), DIRECTORY_TIMEOUT_MS).catch(() => undefined);
    if (this.closed) return;
    if (agents === undefined) {
      this.silent.add(member);
      return;
    }
    this.silent.delete(member);
    // A member speaks for its own agents only.
    this.known.set(member, agents.filter((agent) => agent.node === member));
    await this.learned(member);
  }
}
