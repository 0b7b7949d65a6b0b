import fs from 'node:fs';
import path from 'node:path';
import { ask } from '../actors/ask.js';
import type { Runtime } from '../actors/runtime.js';
import type { ActorRef, AnyActorRef } from '../actors/ref.js';
import type { SupervisionPolicy } from '../actors/supervision.js';
import { agent } from '../agents/agent.js';
import type { AgentMessage, AgentMetrics, EpisodeReply, ImportReply, PredictionsReply } from '../agents/messages.js';
import { ownedMemoryClosed } from '../agents/owned-memory.js';
import type { ScreenOptions } from '../agents/recent.js';
import type { LearnerFactory } from '../agents/session.js';
import type { FeatureSpace } from '../learning/features.js';
import { decodeBundle, encodeBundle } from '../memory/bundle.js';
import type { Pattern } from '../memory/pattern.js';
import { mergeScores, oracleCalls, scoreCalls, type Calls, type Score } from './evaluation.js';
import type { DeploymentEvents } from './events.js';
import type { EpisodeWindow, MarketFeed } from './market-feed.js';

export interface SwarmOptions {
  readonly runtime: Runtime;
  readonly space: FeatureSpace;
  /** Each agent's pattern memory is a directory `agents/<id>` under it. */
  readonly dataDir: string;
  readonly events: DeploymentEvents;
  /** How long a request to an agent may take before the agent counts as unavailable for it. */
  readonly askTimeoutMs: number;
  /** Builds each agent's learner; default the pattern learner at the agent's learning rate. */
  readonly learner?: LearnerChoice;
}

/** A user's learner for an agent of a deployment, given the agent's id and configured learning rate. */
export type LearnerChoice = (agent: { readonly id: string; readonly learningRate: number }) => LearnerFactory;

export interface AgentSpec {
  readonly id: string;
  readonly learningRate: number;
  /** `memorySize` of the configs: the most patterns the agent's memory keeps. */
  readonly capacity?: number;
  readonly supervision?: SupervisionPolicy;
  /** This agent's own learner (a strategy's, a version's), over the deployment's choice. */
  readonly learner?: LearnerFactory;
}

/** Enough to send an agent a request: its id (for liveness) and its ref. */
export interface AgentAddress {
  readonly id: string;
  readonly ref: ActorRef<AgentMessage>;
}

/** `Swarm.request`, handed to actors of a topology that ask agents themselves. */
export type AgentRequester = <Reply>(agent: AgentAddress, make: (replyTo: ActorRef<Reply>) => AgentMessage) => Promise<Reply | undefined>;

export interface AgentHandle extends AgentSpec {
  readonly ref: ActorRef<AgentMessage>;
  readonly path: string;
  readonly dir: string;
}

/** Held-out calls of the agents asked, and the oracle's on the same steps. */
export interface HeldOutCalls {
  /** By agent id, for the agents that answered. */
  readonly calls: ReadonlyMap<string, readonly Calls[]>;
  readonly oracle: readonly Calls[];
}

/**
 * The agents of a deployment and what every topology does with them: spawn
 * them under a parent with their memories on disk, know which are live, ask
 * them to train and to call held-out episodes, and count the messages and
 * bytes exchanged. An agent is live from its spawn until it crashes, and
 * again once supervision has restarted it; a request it does not answer in
 * time (killed mid-request) is treated as missing, never waited for forever.
 */
export class Swarm {
  private readonly agents = new Map<string, AgentHandle>();
  private readonly byPath = new Map<string, AgentHandle>();
  private readonly down = new Set<string>();
  /** Per agent, how to give up on its requests in flight when it goes down. */
  private readonly pending = new Map<string, Set<() => void>>();
  private readonly unsubscribe: () => void;
  /** Requests sent to agents, and bytes of knowledge (bundles) moved between them. */
  messages = 0;
  bytes = 0;

  constructor(private readonly options: SwarmOptions) {
    const { runtime, events } = options;
    this.unsubscribe = runtime.events.subscribe((event) => {
      if (!('path' in event)) return;
      const handle = this.byPath.get(event.path);
      if (handle === undefined) return;
      if (event.type === 'crashed') {
        this.down.add(handle.id);
        this.abandon(handle.id);
        events.publish({ type: 'crash', agent: handle.id, error: event.error.message, at: event.at });
      } else if (event.type === 'restarted') {
        this.down.delete(handle.id);
        events.publish({ type: 'restart', agent: handle.id, attempt: event.attempt, delayMs: event.delayMs, at: event.at });
      } else if (event.type === 'stopped') {
        this.down.add(handle.id);
        this.abandon(handle.id);
        events.publish({ type: 'agent-stopped', agent: handle.id, at: event.at });
      }
    });
  }

  /** Counts traffic that did not go through `request`: agents' asks made by other actors of the topology. */
  count(messages: number, bytes = 0): void {
    this.messages += messages;
    this.bytes += bytes;
  }

  get runtime(): Runtime {
    return this.options.runtime;
  }

  get space(): FeatureSpace {
    return this.options.space;
  }

  /** The agents' feature space as a bundle names it: what their bundles are encoded in and checked against. */
  get bundleSpace(): { readonly featureSpaceId: string; readonly dimensions: number } {
    return { featureSpaceId: this.options.space.id, dimensions: this.options.space.dimensions };
  }

  /** The patterns of a bundle an agent sent (an export, its changes), validated against the agents' feature space. */
  patternsOf(bundle: Uint8Array): Pattern[] {
    return [...decodeBundle(bundle, this.bundleSpace).patterns];
  }

  /**
   * Imports `patterns` into `agent` as one bundle, its bytes counted as
   * knowledge exchanged, then deletes the ids of `remove`: the agent's
   * reply, or undefined when it gave none.
   */
  async give(agent: AgentAddress, patterns: readonly Pattern[], screen?: ScreenOptions, remove?: readonly string[]): Promise<ImportReply | undefined> {
    const bundle = encodeBundle(patterns, this.bundleSpace);
    this.count(0, bundle.byteLength);
    const extra = { ...(screen === undefined ? {} : { screen }), ...(remove === undefined || remove.length === 0 ? {} : { remove }) };
    return this.request(agent, (replyTo: ActorRef<ImportReply>) => ({ type: 'import', bundle, mode: 'full', ...extra, replyTo }));
  }

  spawn(parent: AnyActorRef, spec: AgentSpec): AgentHandle {
    const dir = path.join(this.options.dataDir, 'agents', spec.id);
    fs.mkdirSync(dir, { recursive: true });
    const ref = this.options.runtime.spawn(
      parent,
      agent({
        id: spec.id,
        space: this.options.space,
        memory: { path: dir, ...(spec.capacity === undefined ? {} : { capacity: spec.capacity }) },
        learningRate: spec.learningRate,
        ...learnerOf(spec, this.options.learner),
      }),
      { name: spec.id, ...(spec.supervision === undefined ? {} : { supervision: spec.supervision }) },
    );
    const handle: AgentHandle = { ...spec, ref, path: ref.path, dir };
    this.agents.set(spec.id, handle);
    this.byPath.set(ref.path, handle);
    this.down.delete(spec.id);
    return handle;
  }

  /** Stops the agent for good (scale-down, retirement) and waits until its memory is closed. */
  async retire(handle: AgentHandle): Promise<void> {
    await this.options.runtime.stop(handle.ref);
    await ownedMemoryClosed(handle.dir);
    this.agents.delete(handle.id);
  }

  get(id: string): AgentHandle | undefined {
    return this.agents.get(id);
  }

  all(): AgentHandle[] {
    return [...this.agents.values()];
  }

  isLive(id: string): boolean {
    return this.agents.has(id) && !this.down.has(id);
  }

  live(): AgentHandle[] {
    return this.all().filter((handle) => this.isLive(handle.id));
  }

  /**
   * The agent's answer, or undefined when it gave none: it crashed or was
   * stopped while the request was in flight, or took longer than the
   * timeout. A crashed agent's mailbox survives its restart, so it may still
   * handle the request later; its answer then goes to dead letters, and the
   * topology has long moved on without it, as it must not wait for the dead.
   */
  async request<Reply>(handle: AgentAddress, make: (replyTo: ActorRef<Reply>) => AgentMessage): Promise<Reply | undefined> {
    this.messages++;
    if (this.down.has(handle.id)) return undefined;
    let giveUp: () => void = () => undefined;
    const abandoned = new Promise<undefined>((resolve) => {
      giveUp = () => resolve(undefined);
    });
    const waiting = this.pending.get(handle.id) ?? new Set();
    this.pending.set(handle.id, waiting);
    waiting.add(giveUp);
    try {
      return await Promise.race([ask(handle.ref, make, this.options.askTimeoutMs).catch(() => undefined), abandoned]);
    } finally {
      waiting.delete(giveUp);
    }
  }

  /** `request`, bound, for actors that ask agents themselves. */
  readonly requester: AgentRequester = (agent, make) => this.request(agent, make);

  private abandon(id: string): void {
    for (const giveUp of this.pending.get(id) ?? []) giveUp();
  }

  async train(handle: AgentHandle, window: EpisodeWindow, episode: number): Promise<EpisodeReply | undefined> {
    return this.request(handle, (replyTo: ActorRef<EpisodeReply>) => ({ type: 'train', ...window, episode, replyTo }));
  }

  async metricsOf(handle: AgentHandle): Promise<AgentMetrics | undefined> {
    return this.request(handle, (replyTo: ActorRef<AgentMetrics>) => ({ type: 'metrics', replyTo }));
  }

  /** Every held-out episode called by each of `handles`; an agent that fails to answer any of them is left out. */
  async heldOutCalls(handles: readonly AgentAddress[], feed: MarketFeed): Promise<HeldOutCalls> {
    const { series, starts } = feed.held;
    const answers = await Promise.all(
      handles.map(async (handle) => {
        const replies = await Promise.all(
          starts.map((start) =>
            this.request(handle, (replyTo: ActorRef<PredictionsReply>) => ({ type: 'predictions', series, start, length: feed.episodeLength, replyTo })),
          ),
        );
        const calls = replies.map((reply) => (reply?.ok === true ? { steps: reply.steps, directions: reply.directions } : undefined));
        return calls.every((c) => c !== undefined) ? ([handle.id, calls as Calls[]] as const) : undefined;
      }),
    );
    const calls = new Map(answers.filter((a) => a !== undefined));
    const steps = [...calls.values()][0]?.map((c) => c.steps) ?? starts.map(() => []);
    return { calls, oracle: steps.map((s) => oracleCalls(series, s)) };
  }

  /** Each agent's held-out score, pooled over the episodes. */
  scores(held: HeldOutCalls, feed: MarketFeed): Map<string, Score> {
    return new Map([...held.calls].map(([id, calls]) => [id, mergeScores(calls.map((c) => scoreCalls(feed.held.series, c)))]));
  }

  close(): void {
    this.unsubscribe();
  }
}

function learnerOf(spec: AgentSpec, choice: LearnerChoice | undefined): { learner?: LearnerFactory } {
  if (spec.learner !== undefined) return { learner: spec.learner };
  return choice === undefined ? {} : { learner: choice({ id: spec.id, learningRate: spec.learningRate }) };
}
