import type { ActorRef } from '../actors/ref.js';
import type { EpisodeOptions, EpisodeResult, FeatureSeries } from '../learning/episode.js';
import type { Prediction } from '../learning/learner.js';
import type { Direction } from '../market/outcomes.js';
import type { BundleErrorCode, BundleHeader, BundleSelection } from '../memory/bundle.js';
import type { ConsolidationCriterion, ConsolidationOptions, ConsolidationResult } from '../memory/consolidation.js';
import type { DistillOptions, DistillResult } from '../memory/distill.js';
import type { MemoryBytes } from '../memory/store.js';
import type { ScreenOptions } from './recent.js';

/** One episode over a window of a prepared series: `runEpisode`'s options, but the mode, which the message type sets. */
export interface EpisodeRequest extends Omit<EpisodeOptions, 'mode'> {
  readonly series: FeatureSeries;
}

/** Predict, then learn, over the window; the episode's learning is committed once, at its end. */
export interface TrainMessage extends EpisodeRequest {
  readonly type: 'train';
  /** Optional, so that a topology can feed episodes without waiting; a refused episode then shows only in `metrics`. */
  readonly replyTo?: ActorRef<EpisodeReply>;
}

/** Predict only, over the window: held-out scoring. */
export interface EvaluateMessage extends EpisodeRequest {
  readonly type: 'evaluate';
  readonly replyTo: ActorRef<EpisodeReply>;
}

export interface PredictMessage {
  readonly type: 'predict';
  readonly features: Float32Array;
  readonly replyTo: ActorRef<PredictReply>;
}

/** The memory's patterns (all, or those `select` matches) as a bundle. */
export interface ExportMessage {
  readonly type: 'export';
  readonly select?: BundleSelection;
  readonly replyTo: ActorRef<ExportReply>;
}

/** Writes a bundle's patterns to the memory, then reloads the learner so they vote at once. */
export interface ImportMessage {
  readonly type: 'import';
  readonly bundle: Uint8Array;
  /** `full` imports every pattern; `selective` those `select` matches. */
  readonly mode: 'full' | 'selective';
  readonly select?: BundleSelection;
  /**
   * Also refuse patterns that contradict what this agent trained on lately
   * (see `RecentObservations`); the rest are imported.
   */
  readonly screen?: ScreenOptions;
  /** Ids to delete once the bundle is written: a follower mirroring another agent drops what that agent merged away or evicted. */
  readonly remove?: readonly string[];
  readonly replyTo: ActorRef<ImportReply>;
}

/** Distils and/or consolidates the memory, then reloads the learner so merged patterns and new plasticity apply. */
export interface MaintainMessage {
  readonly type: 'maintain';
  readonly distill?: DistillOptions;
  readonly consolidate?: { readonly criterion: ConsolidationCriterion; readonly options?: ConsolidationOptions };
  readonly replyTo: ActorRef<MaintainReply>;
}

/**
 * The patterns this agent originated that were written (learned, merged)
 * after journal sequence number `since`, as a bundle: what a replica needs
 * to catch up from its high-water mark. If the journal was compacted past
 * `since`, every pattern the agent originated is sent instead.
 */
export interface ChangesMessage {
  readonly type: 'changes';
  readonly since: number;
  /**
   * At most this many patterns in the reply, so that it fits in a network
   * frame; the reply's `seq` then covers only what it carries and `more`
   * says to ask again from there. Default: all of them.
   */
  readonly limit?: number;
  readonly replyTo: ActorRef<ChangesReply>;
}

/**
 * The ids of the patterns in the memory, in id order, a page at a time:
 * what a follower holds, without the patterns themselves.
 */
export interface IdsMessage {
  readonly type: 'ids';
  /** The page starts after this id; default: at the first. */
  readonly after?: string;
  /** At most this many ids in the reply, so that it fits in a network frame; `more` says to ask again after the last. Default: all of them. */
  readonly limit?: number;
  readonly replyTo: ActorRef<IdsReply>;
}

/** The agent's call at every scored step of the window, learning off: what a vote is taken from. */
export interface PredictionsMessage extends EpisodeRequest {
  readonly type: 'predictions';
  readonly replyTo: ActorRef<PredictionsReply>;
}

/**
 * Changes the learner's learning rate from the next episode on, for the
 * rest of this incarnation (a restarted agent starts again from the rate it
 * was spawned with). Refused when the rate is out of the learner's range,
 * or when the agent's learner has no learning rate to change.
 */
export interface ConfigureMessage {
  readonly type: 'configure';
  readonly learningRate: number;
  readonly replyTo: ActorRef<ConfigureReply>;
}

export interface MetricsMessage {
  readonly type: 'metrics';
  readonly replyTo: ActorRef<AgentMetrics>;
}

export type AgentMessage =
  | TrainMessage
  | EvaluateMessage
  | PredictMessage
  | ExportMessage
  | ImportMessage
  | MaintainMessage
  | ChangesMessage
  | IdsMessage
  | PredictionsMessage
  | ConfigureMessage
  | MetricsMessage;

/**
 * Why a request was refused. Each is bad input, answered without changing
 * the memory or the learner: feature vectors of the wrong size, episode,
 * selection or maintenance options out of range, or a bundle that fails
 * validation.
 */
export type AgentRefusalCode =
  | 'FEATURE_DIMENSIONS'
  | 'EPISODE_OPTIONS'
  | 'MARKET_OPTIONS'
  | 'INVALID_OPTION'
  /** The learner cannot do what was asked (a `configure` of a learner without a learning rate). */
  | 'UNSUPPORTED'
  | BundleErrorCode;

/** Plain data rather than an Error, so that a reply can cross a process boundary as it is. */
export interface AgentRefusal {
  readonly ok: false;
  readonly error: { readonly code: AgentRefusalCode; readonly message: string };
}

export type AgentReply<Success> = ({ readonly ok: true } & Success) | AgentRefusal;

export type EpisodeReply = AgentReply<{ readonly result: EpisodeResult }>;
export type PredictReply = AgentReply<{ readonly prediction: Prediction }>;
export type ExportReply = AgentReply<{ readonly bundle: Uint8Array }>;
export type ImportReply = AgentReply<{
  readonly header: BundleHeader;
  /** Ids of the patterns written. */
  readonly imported: readonly string[];
  /** Ids of valid patterns that `select` left out. */
  readonly skipped: readonly string[];
  /** Ids of valid patterns refused by `screen`. */
  readonly screened: readonly string[];
  /** Ids of `remove` that were in the memory and are deleted. */
  readonly removed: readonly string[];
}>;
export type IdsReply = AgentReply<{ readonly ids: readonly string[]; readonly more: boolean }>;
export type ChangesReply = AgentReply<{
  readonly bundle: Uint8Array;
  readonly count: number;
  /** The journal's sequence number up to which the bundle holds the changes: the next request's `since`. */
  readonly seq: number;
  /** True when `limit` cut the changes short: ask again from `seq`. */
  readonly more: boolean;
}>;
export type PredictionsReply = AgentReply<{
  /** Bar indices of the steps called, in order; steps still in the feature warm-up are left out. */
  readonly steps: readonly number[];
  /** −1, 0 (flat) or 1 per step. */
  readonly directions: readonly Direction[];
}>;
/** The learning rate now in effect. */
export type ConfigureReply = AgentReply<{ readonly learningRate: number }>;
export type MaintainReply = AgentReply<{ readonly distilled?: DistillResult; readonly consolidated?: ConsolidationResult }>;

export interface AgentMetrics {
  readonly id: string;
  /** 0 for the first start, +1 for each restart; the counters below restart from 0 with it. */
  readonly incarnation: number;
  readonly patterns: number;
  readonly episodesTrained: number;
  readonly episodesEvaluated: number;
  /** Requests answered with a refusal, replied to or not. */
  readonly refused: number;
  /** Of the latest episode; NaN when it decided no step, undefined before the first. */
  readonly lastTrainAccuracy: number | undefined;
  readonly lastEvalAccuracy: number | undefined;
  readonly bytesUsed: MemoryBytes;
}
