import fs from 'node:fs';
import path from 'node:path';
import { ask, dispatch } from '../actors/ask.js';
import { persistent, type ActorContext, type Behaviour } from '../actors/behaviour.js';
import type { ActorRef } from '../actors/ref.js';
import { agent } from '../agents/agent.js';
import type { AgentMessage, ChangesReply, ImportReply, MaintainReply } from '../agents/messages.js';
import { ownedMemoryClosed } from '../agents/owned-memory.js';
import type { FeatureSpace } from '../learning/features.js';
import { decodeBundle, encodeBundle } from '../memory/bundle.js';
import type { DistillOptions } from '../memory/distill.js';
import type { Pattern } from '../memory/pattern.js';
import type { AgentAddress, AgentRequester } from './swarm.js';

/** What the scaler decides by: the config's triggers and bounds, and the scaler's own pace. */
export interface ScalingPolicy {
  readonly initialAgents: number;
  readonly maxAgents: number;
  /** Scale up when the agents together created at least this many patterns in the last window. */
  readonly newPatterns: number;
  /** Scale down when distilling what the agents learned in the last window removes at least this share of it. */
  readonly memoryReduction: number;
  /** Ours, not the reference's: also scale up when the window's mean VIX-like index is at or above this. */
  readonly vixUp?: number;
  /** Ours, not the reference's: also scale down when the window's mean VIX-like index is at or below this (below `vixUp`). */
  readonly vixDown?: number;
  /** Episodes per window: the scaler measures, and may decide, once per window. */
  readonly window: number;
  /** Episodes after a decision during which no other is taken. */
  readonly cooldown: number;
  /** How the window's patterns are distilled: near-duplicates merged (and the weak pruned, if asked). */
  readonly distill: DistillOptions;
}

/** What the scaler measured at the end of a window. */
export interface ScalingCheck {
  readonly episode: number;
  readonly agents: number;
  /** Patterns the agents created over the window, summed over agents (from their train replies). */
  readonly newPatterns: number;
  /** Share of the window's patterns that distillation removed: 1 − after / before; NaN when there were none to distil. */
  readonly memoryReduction: number;
  /** Patterns the window's distillation started from. */
  readonly distilled: number;
  /**
   * Mean of the VIX-like index over the window: per episode, the mean over the agents that trained of their
   * stream's index over the episode's bars (bars they had trained on: no look-ahead); NaN when none was known.
   */
  readonly vix: number;
}

export type ScalingDirection = 'up' | 'down';

export interface ScalingVerdict {
  /** Undefined between the ends of windows. */
  readonly check?: ScalingCheck;
  readonly decision?: { readonly direction: ScalingDirection; readonly cause: string };
}

export type ScalerMessage =
  | {
      readonly type: 'observe';
      readonly episode: number;
      /** Patterns the agents created this episode, summed. */
      readonly created: number;
      /** Mean VIX-like index over the episode's bars of the streams the agents trained on; NaN if unknown. */
      readonly vix?: number;
      /** The live agents, to distil what they learned when a window ends. */
      readonly agents: readonly AgentAddress[];
      readonly replyTo: ActorRef<ScalingVerdict>;
    }
  /** Journaled: an episode's count, within a window. */
  | { readonly type: 'observed'; readonly created: number; readonly vix?: number }
  /** Journaled: a window ended, with a decision or not, its patterns distilled up to `marks`. */
  | { readonly type: 'checked'; readonly episode: number; readonly decided: boolean; readonly marks: Readonly<Record<string, number>> };

interface ScalerState {
  /** Patterns created per episode observed since the window began. */
  readonly window: readonly number[];
  /** The VIX-like index per episode observed since the window began (NaN where unknown). */
  readonly vix?: readonly number[];
  /** Episode of the last decision. */
  readonly lastDecision: number | undefined;
  /** Per agent, the journal sequence number up to which its patterns were distilled already. */
  readonly marks: Readonly<Record<string, number>>;
}

/**
 * The rule, apart from how its inputs are measured. Once per window:
 * - up, when the agents created at least `newPatterns` patterns over the
 *   window and there are fewer than `maxAgents`: the market is showing
 *   them more than they know, and another agent on another instrument
 *   learns more of it;
 * - else down, when distilling what they learned over the window removed
 *   at least `memoryReduction` of it and there are more than
 *   `initialAgents`: the agents are learning the same things, and one
 *   fewer loses little;
 * - never within `cooldown` episodes of the last decision, so a decision's
 *   own effects (a new agent's first patterns, a warm start's duplicates)
 *   cannot reverse it at once.
 *
 * Ours, not the reference's: with `vixUp`, also up when the window's mean
 * VIX-like index is at or above it; with `vixDown`, also down when it is at
 * or below it. The reference triggers are blind to a volatility regime —
 * the features are normalized by realized volatility, so a turbulent market
 * shows the learners no more new patterns than a calm one — and the index
 * is what sees it. Up still wins over down, and the cooldown and bounds
 * hold for every trigger alike. The cause names every trigger that fired,
 * with its figures.
 */
export function decideScaling(policy: ScalingPolicy, check: ScalingCheck, lastDecision: number | undefined): ScalingVerdict['decision'] {
  if (lastDecision !== undefined && check.episode - lastDecision < policy.cooldown) return undefined;
  const vix = (x: number) => x.toFixed(1);
  if (check.agents < policy.maxAgents) {
    const causes: string[] = [];
    if (check.newPatterns >= policy.newPatterns) causes.push(`new patterns: ${check.newPatterns} in the last ${policy.window} episodes ≥ ${policy.newPatterns}`);
    if (policy.vixUp !== undefined && check.vix >= policy.vixUp) causes.push(`VIX: mean ${vix(check.vix)} over the last ${policy.window} episodes ≥ ${vix(policy.vixUp)}`);
    if (causes.length > 0) return { direction: 'up', cause: causes.join('; ') };
  }
  if (check.agents > policy.initialAgents) {
    const share = (x: number) => `${(100 * x).toFixed(1)}%`;
    const causes: string[] = [];
    if (check.memoryReduction >= policy.memoryReduction) {
      causes.push(
        `memory reduction: distillation removed ${share(check.memoryReduction)} of the ${check.distilled} patterns learned in the last ${policy.window} episodes ≥ ${share(policy.memoryReduction)}`,
      );
    }
    if (policy.vixDown !== undefined && check.vix <= policy.vixDown) causes.push(`VIX: mean ${vix(check.vix)} over the last ${policy.window} episodes ≤ ${vix(policy.vixDown)}`);
    if (causes.length > 0) return { direction: 'down', cause: causes.join('; ') };
  }
  return undefined;
}

export interface ScalerOptions {
  readonly policy: ScalingPolicy;
  readonly space: FeatureSpace;
  /** Asks the agents for what they learned (`changes`), through the swarm. */
  readonly request: AgentRequester;
  /** Where each window's distiller keeps its memory while it works. */
  readonly workDir: string;
  readonly askTimeoutMs: number;
}

/**
 * The auto-scaler as an actor. The deployment tells it, after each
 * episode, how many patterns the agents created; at the end of each window
 * it measures redundancy and answers with its decision, which the
 * deployment carries out (spawning, warm-starting, retiring agents).
 *
 * Redundancy is measured by distillation, run by an agent: a distiller
 * spawned as the scaler's child imports the patterns every live agent
 * originated or changed over the window (`changes` since the scaler's mark
 * for it) and is sent `maintain` with the distill options; the share of
 * patterns the merge removed is the memory reduction. Distilling each
 * agent's own memory would say little — one learner does not create two
 * patterns within its similarity threshold — while the agents' patterns
 * taken together overlap as much as the agents learned the same things.
 * The distiller is stopped and its memory removed once it has answered.
 *
 * Windows are aligned on episodes (a window ends at every multiple of
 * `window`), so an observation lost while the scaler restarts shortens one
 * window instead of shifting all the later ones. The scaler is persistent:
 * the counts of the window, the last decision and the marks are journaled,
 * so a scaler restarted by supervision still keeps the cooldown.
 */
export function scaler(options: ScalerOptions, name = 'scaler'): Behaviour<ScalerMessage> {
  const { policy } = options;
  return persistent<ScalerState, ScalerMessage>({
    persistenceKey: `scaler/${name}`,
    snapshotEvery: 500,
    initialState: { window: [], vix: [], lastDecision: undefined, marks: {} },
    receive: async (state, message, ctx) => {
      const vix = [...(state.vix ?? []), ...(message.type === 'checked' ? [] : [message.vix ?? Number.NaN])];
      if (message.type === 'observed') return { ...state, window: [...state.window, message.created], vix };
      if (message.type === 'checked') return { window: [], vix: [], lastDecision: message.decided ? message.episode : state.lastDecision, marks: message.marks };
      const window = [...state.window, message.created];
      if (message.episode % policy.window !== 0) {
        await ctx.persist({ type: 'observed', created: message.created, vix: message.vix ?? Number.NaN });
        dispatch(message.replyTo, {});
        return { ...state, window, vix };
      }
      const { patterns, marks } = await learnedLately(message.agents, state.marks, options);
      const distilled = await distil(patterns, message.episode, options, ctx);
      const check: ScalingCheck = {
        episode: message.episode,
        agents: message.agents.length,
        newPatterns: window.reduce((a, b) => a + b, 0),
        memoryReduction: distilled.before === 0 ? Number.NaN : 1 - distilled.after / distilled.before,
        distilled: distilled.before,
        vix: meanOfKnown(vix),
      };
      const decision = decideScaling(policy, check, state.lastDecision);
      await ctx.persist({ type: 'checked', episode: message.episode, decided: decision !== undefined, marks });
      dispatch(message.replyTo, decision === undefined ? { check } : { check, decision });
      return { window: [], vix: [], lastDecision: decision === undefined ? state.lastDecision : message.episode, marks };
    },
  });
}

/** Mean of the finite values; NaN if there are none. */
function meanOfKnown(xs: readonly number[]): number {
  const known = xs.filter(Number.isFinite);
  return known.length === 0 ? Number.NaN : known.reduce((a, b) => a + b, 0) / known.length;
}

/** The patterns each agent originated or changed since the scaler's mark for it, and the marks moved past them. */
async function learnedLately(agents: readonly AgentAddress[], marks: Readonly<Record<string, number>>, options: ScalerOptions) {
  const space = { featureSpaceId: options.space.id, dimensions: options.space.dimensions };
  const replies = await Promise.all(
    agents.map(async (address) => [address.id, await options.request(address, (replyTo: ActorRef<ChangesReply>) => ({ type: 'changes', since: marks[address.id] ?? 0, replyTo }))] as const),
  );
  const patterns: Pattern[] = [];
  const next = { ...marks };
  for (const [id, reply] of replies) {
    if (reply?.ok !== true) continue;
    patterns.push(...decodeBundle(reply.bundle, space).patterns);
    next[id] = reply.seq;
  }
  return { patterns, marks: next };
}

/** Distils `patterns` in a distiller agent of its own; the pattern counts before and after. */
async function distil(patterns: readonly Pattern[], episode: number, options: ScalerOptions, ctx: ActorContext<ScalerMessage>) {
  if (patterns.length === 0) return { before: 0, after: 0 };
  const name = `distiller-${episode}`;
  const dir = path.join(options.workDir, name);
  fs.mkdirSync(dir, { recursive: true });
  const distiller: ActorRef<AgentMessage> = ctx.spawn(agent({ id: name, space: options.space, memory: { path: dir } }), { name });
  try {
    const bundle = encodeBundle(patterns, { featureSpaceId: options.space.id, dimensions: options.space.dimensions });
    const imported = await ask(distiller, (replyTo: ActorRef<ImportReply>) => ({ type: 'import', bundle, mode: 'full', replyTo }), options.askTimeoutMs);
    if (!imported.ok) throw new Error(`the distiller refused the window's patterns: ${imported.error.message}`);
    const maintained = await ask(distiller, (replyTo: ActorRef<MaintainReply>) => ({ type: 'maintain', distill: options.policy.distill, replyTo }), options.askTimeoutMs);
    if (!maintained.ok || maintained.distilled === undefined) throw new Error(`the distiller refused to distil: ${maintained.ok ? 'no result' : maintained.error.message}`);
    return { before: maintained.distilled.patternsBefore, after: maintained.distilled.patternsAfter };
  } finally {
    await ctx.stop(distiller);
    await ownedMemoryClosed(dir);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
