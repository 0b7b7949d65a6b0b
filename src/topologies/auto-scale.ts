import path from 'node:path';
import { ask } from '../actors/ask.js';
import type { ActorRef } from '../actors/ref.js';
import type { SupervisionPolicy } from '../actors/supervision.js';
import type { ConfigureReply, ExportReply } from '../agents/messages.js';
import type { CurvePoint } from '../learning/scenarios/curve.js';
import type { DistillOptions } from '../memory/distill.js';
import type { Pattern } from '../memory/pattern.js';
import { DEFAULT_VIX_LEARNING_RATE, vixLearningRate, type VixLearningRate } from './auto-scale-vix.js';
import type { AutoScaleConfig } from './config.js';
import type { DeployOptions, TopologyMetrics } from './deployment.js';
import { scaler, type ScalerMessage, type ScalingCheck, type ScalingDirection, type ScalingPolicy, type ScalingVerdict } from './scaler.js';
import type { AgentHandle } from './swarm.js';
import { SwarmDeployment, type DeploymentParts } from './swarm-deployment.js';

/** The scaler's pace and the learning-rate curve: not in the reference config, so set here. */
export interface AutoScaleTuning {
  /** Episodes per window. Default 4. */
  readonly window: number;
  /** Episodes after a decision during which no other is taken. Default 8: two windows. */
  readonly cooldown: number;
  /**
   * How the window's patterns are distilled. Default: merge patterns of the
   * same outcome and labels at cosine ≥ 0.9 — the learner's own similarity
   * threshold, so two patterns one learner would have kept as one — and
   * prune nothing, so the reduction is redundancy alone.
   */
  readonly distill: DistillOptions;
  /** Agents' learning rate: `base` without `vixAdaptation`, else `vixLearningRate` of the index. */
  readonly learningRate: VixLearningRate;
}

export const DEFAULT_AUTO_SCALE_TUNING: AutoScaleTuning = {
  window: 4,
  cooldown: 8,
  distill: { similarity: 0.9, minSupport: 1, minConfidence: 0 },
  learningRate: DEFAULT_VIX_LEARNING_RATE,
};

export interface AutoScaleOptions extends DeployOptions {
  readonly tuning?: Partial<AutoScaleTuning>;
}

/** One decision of the scaler, as carried out. */
export interface ScalingDecision {
  /** The episode after whose training it was taken; the change applies from the next. */
  readonly episode: number;
  readonly direction: ScalingDirection;
  readonly cause: string;
  /** The agent spawned or retired. */
  readonly agent: string;
  /** Agents after it. */
  readonly agents: number;
  /** Patterns moved: into the new agent (warm start), or from the retired one into each of the rest. */
  readonly patterns: number;
}

export interface AutoScaleMetrics {
  readonly vixAdaptation: boolean;
  readonly decisions: readonly ScalingDecision[];
  /** What the scaler measured at the end of each window, decision or not. */
  readonly checks: readonly ScalingCheck[];
  /** Agents that trained in each episode; index 0 is episode 1. */
  readonly agentsPerEpisode: readonly number[];
  /**
   * The swarm's VIX-like index in each episode (index 0 is episode 1): the mean over the agents that trained of
   * their stream's index over the episode's bars; NaN while the index's own window fills. Each window's mean is
   * in its check (`checks[i].vix`), which the optional `vix` triggers read.
   */
  readonly vixPerEpisode: readonly number[];
  readonly peakAgents: number;
  /** Per agent, the learning rate it trained each episode with. */
  readonly learningRates: Readonly<Record<string, readonly { readonly episode: number; readonly learningRate: number; readonly vix: number }[]>>;
  readonly maxLearningRate: number;
}

/**
 * Auto-scale: a scaler actor sizes the swarm by what the agents learn.
 * Each round every live agent trains on its own instrument (at its
 * VIX-adapted learning rate under `vixAdaptation`), and the deployment
 * tells the scaler how many patterns they created. At the end of each
 * window the scaler measures and decides (see `decideScaling`): one more
 * agent when the swarm created at least `scaleUpTrigger.newPatterns`
 * patterns over the window, one fewer when distilling what the agents
 * learned over the window removed at least `scaleDownTrigger.memoryReduction`
 * of it; nothing within the cooldown of the last decision; never more than
 * `maxAgents` nor fewer than `initialAgents`.
 *
 * Ours, not the reference's: `scaleUpTrigger.vix` and `scaleDownTrigger.vix`
 * also scale up when the window's mean VIX-like index is at or above the
 * first, and down when it is at or below the second. The reference triggers
 * do not see a volatility regime (the features are normalized by realized
 * volatility); the index does. The deployment tells the scaler, after each
 * episode, the mean index over the bars the agents have just trained on —
 * data already seen, no look-ahead.
 *
 * A new agent warm-starts from the shared knowledge: every live agent's
 * patterns are imported into it before it trains. A retired agent first
 * hands its patterns to every remaining agent, then is stopped for good.
 * Every decision is published as a `scale` event with its cause and kept in
 * the metrics. Decisions are majority votes of the live agents.
 */
export class AutoScaleDeployment extends SwarmDeployment<'auto-scale'> {
  private readonly tuning: AutoScaleTuning;
  private readonly scalerRef: ActorRef<ScalerMessage>;
  private readonly timeout: number;
  private readonly supervision: SupervisionPolicy | undefined;
  private readonly decisions: ScalingDecision[] = [];
  private readonly checks: ScalingCheck[] = [];
  private readonly agentsPerEpisode: number[] = [];
  private readonly vixPerEpisode: number[] = [];
  private readonly rates = new Map<string, { episode: number; learningRate: number; vix: number }[]>();
  private spawned = 0;

  private constructor(config: AutoScaleConfig, options: AutoScaleOptions, parts: DeploymentParts) {
    super('auto-scale', config, parts);
    this.tuning = { ...DEFAULT_AUTO_SCALE_TUNING, ...options.tuning };
    this.timeout = options.askTimeoutMs ?? 30_000;
    this.supervision = options.agentSupervision;
    const policy: ScalingPolicy = {
      initialAgents: config.initialAgents,
      maxAgents: config.maxAgents,
      newPatterns: config.scaleUpTrigger.newPatterns,
      memoryReduction: config.scaleDownTrigger.memoryReduction,
      ...(config.scaleUpTrigger.vix === undefined ? {} : { vixUp: config.scaleUpTrigger.vix }),
      ...(config.scaleDownTrigger.vix === undefined ? {} : { vixDown: config.scaleDownTrigger.vix }),
      window: this.tuning.window,
      cooldown: this.tuning.cooldown,
      distill: this.tuning.distill,
    };
    this.scalerRef = this.runtime.spawn(
      this.root,
      scaler({ policy, space: this.swarm.space, request: this.swarm.requester, workDir: path.join(parts.dataDir, 'scaler'), askTimeoutMs: this.timeout }),
      { name: 'scaler' },
    );
    for (let i = 0; i < config.initialAgents; i++) this.spawnAgent();
  }

  static create(config: AutoScaleConfig, options: AutoScaleOptions = {}): AutoScaleDeployment {
    return new AutoScaleDeployment(config, options, SwarmDeployment.prepare('auto-scale', options));
  }

  protected async round(episode: number): Promise<void> {
    const live = this.swarm.live();
    await Promise.all(live.map((agent) => this.adapt(agent, episode)));
    const replies = await Promise.all(live.map((agent) => this.swarm.train(agent, this.feed.episode(agent.id, episode), episode)));
    const created = replies.reduce((sum, reply) => sum + (reply?.ok === true ? reply.result.created : 0), 0);
    this.agentsPerEpisode.push(live.length);
    // The index over the bars just trained on: known now, so the scaler reads no future.
    const vix = meanOfKnown(live.map((agent) => this.feed.vix(agent.id, episode)));
    this.vixPerEpisode.push(vix);
    const agents = this.swarm.live().map(({ id, ref }) => ({ id, ref }));
    this.swarm.count(1);
    // A scaler that fails (and is restarted by supervision) or does not answer in time decides nothing this episode.
    const verdict: ScalingVerdict = await ask(
      this.scalerRef,
      (replyTo: ActorRef<ScalingVerdict>) => ({ type: 'observe', episode, created, vix, agents, replyTo }),
      this.timeout,
    ).catch(() => ({}));
    if (verdict.check !== undefined) this.checks.push(verdict.check);
    if (verdict.decision?.direction === 'up') await this.scaleUp(episode, verdict.decision.cause);
    if (verdict.decision?.direction === 'down') await this.scaleDown(episode, verdict.decision.cause);
  }

  /** Sets the agent's learning rate for the episode: from the index of the episode before (known before this one starts), or the base rate. */
  private async adapt(agent: AgentHandle, episode: number): Promise<void> {
    const vix = episode > 1 ? this.feed.vix(agent.id, episode - 1) : Number.NaN;
    let learningRate = this.tuning.learningRate.base;
    if (this.config.vixAdaptation) {
      const reply = await this.swarm.request(agent, (replyTo: ActorRef<ConfigureReply>) => ({ type: 'configure', learningRate: vixLearningRate(vix, this.tuning.learningRate), replyTo }));
      if (reply?.ok !== true) return;
      learningRate = reply.learningRate;
    }
    const history = this.rates.get(agent.id) ?? [];
    history.push({ episode, learningRate, vix });
    this.rates.set(agent.id, history);
  }

  private spawnAgent(): AgentHandle {
    this.spawned++;
    return this.swarm.spawn(this.root, {
      id: `agent-${this.spawned}`,
      learningRate: this.tuning.learningRate.base,
      ...(this.supervision === undefined ? {} : { supervision: this.supervision }),
    });
  }

  /** Spawns an agent and warm-starts it with every live agent's patterns before it trains. */
  private async scaleUp(episode: number, cause: string): Promise<void> {
    const sources = this.swarm.live();
    const agent = this.spawnAgent();
    const exported = (await Promise.all(sources.map((source) => this.patternsOf(source)))).flat();
    const imported = await this.give(agent, newestById(exported));
    this.decided({ episode, direction: 'up', cause, agent: agent.id, agents: this.swarm.all().length, patterns: imported });
  }

  /** Retires the agent added last, after handing its patterns to every remaining agent. */
  private async scaleDown(episode: number, cause: string): Promise<void> {
    const live = this.swarm.live();
    const agent = live.at(-1);
    if (agent === undefined || live.length < 2) return;
    const patterns = await this.patternsOf(agent);
    const given = await Promise.all(live.slice(0, -1).map((other) => this.give(other, patterns)));
    await this.swarm.retire(agent);
    this.decided({ episode, direction: 'down', cause, agent: agent.id, agents: this.swarm.all().length, patterns: Math.min(...given) });
  }

  private decided(decision: ScalingDecision): void {
    this.decisions.push(decision);
    this.events.publish({ type: 'scale', direction: decision.direction, agents: decision.agents, cause: decision.cause, at: this.runtime.clock.now() });
  }

  private async patternsOf(agent: AgentHandle): Promise<readonly Pattern[]> {
    const reply = await this.swarm.request(agent, (replyTo: ActorRef<ExportReply>) => ({ type: 'export', replyTo }));
    if (reply?.ok !== true) return [];
    return this.swarm.patternsOf(reply.bundle);
  }

  /** Imports `patterns` into the agent in one bundle; how many it wrote. */
  private async give(agent: AgentHandle, patterns: readonly Pattern[]): Promise<number> {
    if (patterns.length === 0) return 0;
    const reply = await this.swarm.give(agent, patterns);
    return reply?.ok === true ? reply.imported.length : 0;
  }

  protected async evaluate(episode: number): Promise<CurvePoint> {
    // A simple majority of the live agents, flat ones counted among them.
    return (await this.voteEvaluation(episode, 0.5)).point;
  }

  protected topologyMetrics(): TopologyMetrics['auto-scale'] {
    const learningRates = Object.fromEntries([...this.rates].map(([id, history]) => [id, history.map((h) => ({ ...h }))]));
    const all = [...this.rates.values()].flat().map((h) => h.learningRate);
    return {
      vixAdaptation: this.config.vixAdaptation,
      decisions: [...this.decisions],
      checks: [...this.checks],
      agentsPerEpisode: [...this.agentsPerEpisode],
      vixPerEpisode: [...this.vixPerEpisode],
      peakAgents: Math.max(this.config.initialAgents, ...this.agentsPerEpisode, ...this.decisions.map((d) => d.agents)),
      learningRates,
      maxLearningRate: all.length === 0 ? Number.NaN : Math.max(...all),
    };
  }
}

/** Mean of the finite values; NaN if there are none. */
function meanOfKnown(xs: readonly number[]): number {
  const known = xs.filter(Number.isFinite);
  return known.length === 0 ? Number.NaN : known.reduce((a, b) => a + b, 0) / known.length;
}

/** One pattern per id — agents hold copies of each other's after warm starts and hand-overs — the newest version of each. */
function newestById(patterns: readonly Pattern[]): Pattern[] {
  const newest = new Map<string, Pattern>();
  for (const pattern of patterns) {
    const held = newest.get(pattern.id);
    if (held === undefined || pattern.version > held.version) newest.set(pattern.id, pattern);
  }
  return [...newest.values()];
}
