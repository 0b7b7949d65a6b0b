import type { ActorRef } from '../actors/ref.js';
import type { ExportReply, ImportReply } from '../agents/messages.js';
import { convergenceEpisode, type CurvePoint } from '../learning/scenarios/curve.js';
import { encodeBundle } from '../memory/bundle.js';
import type { DistillOptions } from '../memory/distill.js';
import type { RingConfig } from './config.js';
import type { DeployOptions, TopologyMetrics } from './deployment.js';
import { mergeScores, scoreCalls, type Score } from './evaluation.js';
import { distilled } from './ring-distill.js';
import type { AgentHandle } from './swarm.js';
import { SwarmDeployment } from './swarm-deployment.js';

/** One hand-over from a stage to the next live one. */
export interface RingTransfer {
  readonly episode: number;
  readonly from: string;
  readonly to: string;
  /** Dead stages between `from` and `to`, passed over. */
  readonly bypassed: readonly string[];
  /** Patterns the sender held that the receiver did not originate, and those distilling them pruned (knowledge lost) or merged. */
  readonly senderPatterns: number;
  readonly pruned: number;
  readonly merged: number;
  /** Patterns the receiver wrote. */
  readonly patterns: number;
  readonly bytes: number;
  /** Held-out accuracy of the sender as it handed over, and of the receiver just before and just after. */
  readonly accuracyFrom: number;
  readonly accuracyBefore: number;
  readonly accuracyAfter: number;
  /** accuracyAfter − accuracyBefore: what the hand-over taught the receiver. */
  readonly gain: number;
  /** max(0, accuracyFrom − accuracyAfter): what the sender knew that did not reach the receiver. */
  readonly accuracyLost: number;
}

export interface RingStage {
  readonly id: string;
  readonly live: boolean;
  /** At the last evaluation. */
  readonly accuracy: number;
  /** Of the last hand-over this stage received; NaN before any. */
  readonly lastGain: number;
  /** Mean over every hand-over it received. */
  readonly meanGain: number;
  /** DESIGN.md's convergence, on this stage's own curve; null if not reached. */
  readonly convergenceEpisode: number | null;
}

export interface RingMetrics {
  readonly transferInterval: number;
  /** Hand-over passes around the ring so far. */
  readonly passes: number;
  /** In ring order. */
  readonly stages: readonly RingStage[];
  readonly transfers: readonly RingTransfer[];
  /**
   * Accuracy gain along the ring in the last pass: the accuracy of the last
   * stage to receive, after receiving, minus that of the first stage to
   * send, as it sent.
   */
  readonly gainAlongRing: number;
  readonly meanGainPerTransfer: number;
  /** Knowledge lost per transfer: patterns pruned by the sender's distillation, and accuracy not carried over, on average. */
  readonly patternsLostPerTransfer: number;
  readonly accuracyLostPerTransfer: number;
  /** Times a dead stage was passed over. */
  readonly bypassed: number;
}

/**
 * Distillation of what is handed over: near-duplicates merge, and patterns
 * seen once only are left behind as noise — the knowledge a transfer may
 * lose, counted.
 */
const HAND_OVER_DISTILL: DistillOptions = { similarity: 0.95, minSupport: 2, minConfidence: 0 };
const CONVERGENCE_TARGET = 0.7;
const CONVERGENCE_WINDOW = 5;

/**
 * Ring: `agentCount` stages in a ring, each trading its own instrument.
 * Every round every live stage trains; every `transferInterval` episodes
 * knowledge goes once around the ring as a pipeline: the first live stage
 * distils its memory and hands it over (export → import) to the next live
 * stage, which then distils what it has — its own and what it received —
 * and hands it on, and so on until the last stage hands back to the first,
 * closing the ring. Each stage refines what passes through it: by
 * distillation at every hand-over, and by its own training between passes.
 * A receiver is never sent its own patterns back, since it holds them
 * freshest.
 *
 * Each hand-over is measured on the held-out set: the receiver's accuracy
 * before and after (the stage's gain), and against the sender's (accuracy
 * not carried over), with the patterns the sender's distillation pruned
 * (knowledge lost). The deployment's accuracy is that of all live stages
 * pooled: correct ÷ decided over their held-out calls.
 *
 * A stage that is not live is passed over: its predecessor hands to the
 * next live stage. Its memory is on LMDB, so once supervision restarts it,
 * it has every committed pattern and takes its place in the next pass.
 */
export class RingDeployment extends SwarmDeployment<'ring'> {
  private readonly stages: AgentHandle[];
  private readonly transfers: RingTransfer[] = [];
  private readonly stageCurves = new Map<string, CurvePoint[]>();
  private passes = 0;
  private bypassed = 0;

  private constructor(config: RingConfig, options: DeployOptions) {
    super('ring', config, SwarmDeployment.prepare('ring', options));
    this.stages = Array.from({ length: config.agentCount }, (_, i) =>
      this.swarm.spawn(this.root, {
        id: `agent-${i + 1}`,
        learningRate: config.learningRate,
        ...(options.agentSupervision === undefined ? {} : { supervision: options.agentSupervision }),
      }),
    );
  }

  static create(config: RingConfig, options: DeployOptions = {}): RingDeployment {
    return new RingDeployment(config, options);
  }

  protected async round(episode: number): Promise<void> {
    await Promise.all(this.swarm.live().map((stage) => this.swarm.train(stage, this.feed.episode(stage.id, episode), episode)));
    if (episode % this.config.transferInterval === 0) await this.pass(episode);
  }

  /** One pass of hand-overs around the live stages, in ring order. */
  private async pass(episode: number): Promise<void> {
    const live = this.stages.filter((stage) => this.swarm.isLive(stage.id));
    if (live.length < 2) return;
    this.passes++;
    const accuracy = new Map(await Promise.all(live.map(async (stage) => [stage.id, (await this.score(stage))?.accuracy ?? Number.NaN] as const)));
    let from = live[0]!;
    for (const to of [...live.slice(1), live[0]!]) {
      // A stage that died since the pass began is passed over too.
      if (!this.swarm.isLive(to.id) || to === from) continue;
      const transfer = this.swarm.isLive(from.id) ? await this.handOver(episode, from, to, accuracy) : undefined;
      from = to;
      if (transfer === undefined) continue;
      accuracy.set(to.id, transfer.accuracyAfter);
      this.transfers.push(transfer);
      this.bypassed += transfer.bypassed.length;
      this.events.publish({ type: 'transfer', from: transfer.from, to: transfer.to, patterns: transfer.patterns, at: this.runtime.clock.now() });
    }
  }

  private async handOver(episode: number, from: AgentHandle, to: AgentHandle, accuracy: ReadonlyMap<string, number>): Promise<RingTransfer | undefined> {
    const others = this.stages.map((stage) => stage.id).filter((id) => id !== to.id);
    const exported = await this.swarm.request(from, (replyTo: ActorRef<ExportReply>) => ({ type: 'export', select: { origin: others }, replyTo }));
    if (exported?.ok !== true) return undefined;
    const held = this.swarm.patternsOf(exported.bundle);
    const handed = distilled(held, this.swarm.space.dimensions, HAND_OVER_DISTILL);
    // Encoded here rather than through `swarm.give`: the hand-over reports its size.
    const bundle = encodeBundle(handed.patterns, this.swarm.bundleSpace);
    this.swarm.count(0, bundle.byteLength);
    const imported = await this.swarm.request(to, (replyTo: ActorRef<ImportReply>) => ({ type: 'import', bundle, mode: 'full', replyTo }));
    if (imported?.ok !== true) return undefined;
    const after = (await this.score(to))?.accuracy ?? Number.NaN;
    const accuracyFrom = accuracy.get(from.id) ?? Number.NaN;
    const accuracyBefore = accuracy.get(to.id) ?? Number.NaN;
    return {
      episode,
      from: from.id,
      to: to.id,
      bypassed: this.between(from, to),
      senderPatterns: held.length,
      pruned: handed.pruned,
      merged: handed.merged,
      patterns: imported.imported.length,
      bytes: bundle.byteLength,
      accuracyFrom,
      accuracyBefore,
      accuracyAfter: after,
      gain: after - accuracyBefore,
      accuracyLost: Math.max(0, accuracyFrom - after),
    };
  }

  /** Stages strictly between `from` and `to` going round the ring: the dead ones passed over. */
  private between(from: AgentHandle, to: AgentHandle): string[] {
    const n = this.stages.length;
    const start = this.stages.indexOf(from);
    const skipped: string[] = [];
    for (let i = (start + 1) % n; this.stages[i] !== to; i = (i + 1) % n) skipped.push(this.stages[i]!.id);
    return skipped;
  }

  private async score(stage: AgentHandle): Promise<Score | undefined> {
    const held = await this.swarm.heldOutCalls([stage], this.feed);
    return this.swarm.scores(held, this.feed).get(stage.id);
  }

  protected async evaluate(episode: number): Promise<CurvePoint> {
    const live = this.swarm.live();
    const held = await this.swarm.heldOutCalls(live, this.feed);
    const scores = this.swarm.scores(held, this.feed);
    const series = this.feed.held.series;
    const oracle = mergeScores(held.oracle.map((calls) => scoreCalls(series, calls)));
    const steps = held.oracle.reduce((n, calls) => n + calls.steps.length, 0);
    const sizes = await Promise.all(live.map((stage) => this.swarm.metricsOf(stage)));
    for (const stage of this.stages) {
      const score = scores.get(stage.id);
      this.agentAccuracy.set(stage.id, score?.accuracy ?? Number.NaN);
      const curve = this.stageCurves.get(stage.id) ?? [];
      this.stageCurves.set(stage.id, curve);
      curve.push({
        episode,
        accuracy: score?.accuracy ?? Number.NaN,
        oracleAccuracy: oracle.accuracy,
        decidedFraction: score === undefined || steps === 0 ? 0 : score.decided / steps,
        patterns: sizes[live.indexOf(stage)]?.patterns ?? 0,
      });
    }
    const pooled = mergeScores([...scores.values()]);
    const patterns = sizes.filter((m) => m !== undefined).map((m) => m!.patterns);
    return {
      episode,
      accuracy: pooled.accuracy,
      oracleAccuracy: oracle.accuracy,
      decidedFraction: steps === 0 || scores.size === 0 ? 0 : pooled.decided / (steps * scores.size),
      patterns: patterns.length === 0 ? 0 : Math.max(...patterns),
    };
  }

  protected topologyMetrics(): TopologyMetrics['ring'] {
    const lastPass = this.transfers.filter((t) => t.episode === this.transfers.at(-1)?.episode);
    const mean = (values: readonly number[]) => {
      const finite = values.filter(Number.isFinite);
      return finite.length === 0 ? Number.NaN : finite.reduce((a, b) => a + b, 0) / finite.length;
    };
    return {
      transferInterval: this.config.transferInterval,
      passes: this.passes,
      stages: this.stages.map((stage) => {
        const received = this.transfers.filter((t) => t.to === stage.id);
        return {
          id: stage.id,
          live: this.swarm.isLive(stage.id),
          accuracy: this.agentAccuracy.get(stage.id) ?? Number.NaN,
          lastGain: received.at(-1)?.gain ?? Number.NaN,
          meanGain: mean(received.map((t) => t.gain)),
          convergenceEpisode: convergenceEpisode(this.stageCurves.get(stage.id) ?? [], CONVERGENCE_TARGET, CONVERGENCE_WINDOW),
        };
      }),
      transfers: [...this.transfers],
      gainAlongRing: lastPass.length === 0 ? Number.NaN : lastPass.at(-1)!.accuracyAfter - lastPass[0]!.accuracyFrom,
      meanGainPerTransfer: mean(this.transfers.map((t) => t.gain)),
      patternsLostPerTransfer: mean(this.transfers.map((t) => t.pruned)),
      accuracyLostPerTransfer: mean(this.transfers.map((t) => t.accuracyLost)),
      bypassed: this.bypassed,
    };
  }
}
