import type { TradingSummary } from '../trading.js';
import type { ClaimCheck } from './claims.js';
import type { ScenarioConfigs, ScenarioName } from './config.js';
import { convergenceEpisode, finalAccuracy, nearOracleEpisode, type CurvePoint } from './curve.js';

/** A run reaches "near the oracle" at this share of the oracle's accuracy. */
export const NEAR_ORACLE_SHARE = 0.95;

/** The figures of one agent's run, for the scenario's own agent and for the baselines it is compared with. */
export interface RunSummary {
  /** Mean evaluation accuracy over the last `convergenceWindow` points of the curve. */
  readonly accuracy: number;
  readonly oracleAccuracy: number;
  /** accuracy ÷ oracleAccuracy. */
  readonly accuracyVsOracle: number;
  /** DESIGN.md's convergence at the config's target (see `convergenceEpisode`); null if never reached. */
  readonly convergenceEpisode: number | null;
  /** Convergence at 95% of the oracle instead of the fixed target. */
  readonly nearOracleEpisode: number | null;
  readonly learningCurve: readonly CurvePoint[];
  /** Patterns in the agent's memory at the end. */
  readonly patterns: number;
  readonly trainingMs: number;
}

export function summarizeRun(curve: readonly CurvePoint[], target: number, window: number, patterns: number, trainingMs: number): RunSummary {
  const { accuracy, oracleAccuracy } = finalAccuracy(curve, window);
  return {
    accuracy,
    oracleAccuracy,
    accuracyVsOracle: accuracy / oracleAccuracy,
    convergenceEpisode: convergenceEpisode(curve, target, window),
    nearOracleEpisode: nearOracleEpisode(curve, NEAR_ORACLE_SHARE, window),
    learningCurve: curve,
    patterns,
    trainingMs,
  };
}

/** A baseline (the cold agent, the unprotected run…) and how much sooner the scenario's agent converged. */
export interface Comparison {
  readonly baseline: RunSummary;
  /** 1 − episodes / baseline episodes at the config's target; null if either never converged. */
  readonly speedup: number | null;
  /** The same at 95% of the oracle. */
  readonly nearOracleSpeedup: number | null;
}

export interface ScenarioDetails {
  readonly 'cold-start': Record<string, never>;
  readonly 'warm-start': Comparison & {
    /** Patterns the library agent held, and how many of them matched `preloadPatterns` and were preloaded. */
    readonly libraryPatterns: number;
    readonly preloaded: number;
    /** Evaluation before any training: what preloading alone gives. */
    readonly startAccuracy: number;
  };
  readonly transfer: Comparison & {
    readonly sourcePatterns: number;
    readonly transferred: number;
    /** Patterns `selective` left out. */
    readonly skipped: number;
    /** Export, validation and import. */
    readonly transferMs: number;
    readonly startAccuracy: number;
  };
  readonly continual: {
    readonly days: number;
    readonly trading: TradingSummary;
    readonly buyAndHold: TradingSummary;
    /** The same pretrained agent trading the same days with learning off. */
    readonly frozen: { readonly accuracy: number; readonly trading: TradingSummary };
    /** Pooled accuracy of the first and the second half of the days. */
    readonly earlyAccuracy: number;
    readonly lateAccuracy: number;
  };
  readonly forgetting: {
    readonly protected: ForgettingRun;
    readonly unprotected: ForgettingRun;
    /** 1 − patterns kept with distillation ÷ patterns kept without, at the end of both runs. */
    readonly memoryReduction: number;
    readonly bytesReduction: number;
    readonly retentionTargetMet: boolean;
  };
}

export interface ForgettingRun {
  readonly consolidation: boolean;
  readonly distillation: boolean;
  /** Accuracy on held-out task A episodes after training on A, and again after B. */
  readonly taskABefore: number;
  readonly taskAAfter: number;
  readonly taskBAfter: number;
  /** taskAAfter ÷ taskABefore. */
  readonly retention: number;
  /**
   * Mean accuracy on A over the B phase ÷ taskABefore: how long A survived,
   * not only whether it did. Protection that slows forgetting without
   * preventing it shows here and not in `retention`.
   */
  readonly meanRetentionDuringB: number;
  /** Accuracy on task A after each episode of training on B. */
  readonly taskADuringB: readonly CurvePoint[];
  readonly consolidated: number;
  readonly distillations: number;
  readonly patterns: number;
  readonly bytes: number;
}

export interface ScenarioResult<N extends ScenarioName = ScenarioName> extends RunSummary {
  readonly scenario: N;
  readonly seed: number;
  readonly config: ScenarioConfigs[N];
  readonly claims: readonly ClaimCheck[];
  readonly details: ScenarioDetails[N];
  /** Wall time of the whole scenario, baselines included. */
  readonly durationMs: number;
}
