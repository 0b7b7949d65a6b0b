import { SwarmbankError } from '../errors.js';
import type { Direction } from '../market/outcomes.js';
import { isZeroVector, type Outcome, type Pattern, type PatternInput } from '../memory/pattern.js';
import type { PatternMemory } from '../memory/store.js';
import { VectorIndex, type VectorIndexOptions, type VectorMatch } from '../memory/vector-index.js';
import { marketCondition, type FeatureSpace } from './features.js';
import { patternNames } from './pattern-names.js';

export type Position = 'long' | 'short' | 'flat';

export interface Prediction {
  /** 0 when the learner abstains. */
  readonly direction: Direction;
  /** Strength of the call, 0..1. */
  readonly confidence: number;
  readonly position: Position;
}

/** Where an observation came from; a learner may record it, none has to. */
export interface LearnContext {
  readonly episode?: number;
  readonly step?: number;
}

/** What one observation changed. */
export interface LearnResult {
  readonly created: readonly string[];
  readonly updated: readonly string[];
}

/**
 * What an agent needs from a learner. Implement it to plug in another
 * model; the episode runner and agents use nothing else.
 */
export interface Learner {
  readonly featureSpaceId: string;
  predict(features: Float32Array): Prediction;
  /** Learns from the outcome that followed `features`; an outcome of 0 (no move) teaches nothing. */
  learn(features: Float32Array, outcome: Direction, context?: LearnContext): LearnResult;
  /** The learner's current patterns, uncommitted changes included, ready to write to any memory of the same feature space. */
  exportPatterns(): PatternInput[];
  /** Makes the changes learned since the last commit durable; called once per training episode. */
  commit?(): Promise<void>;
  /** Changes the step size from the next observation on; a learner without a learning rate leaves this out. */
  setLearningRate?(rate: number): void;
  /**
   * Takes in patterns just written to its memory by someone else (an
   * import), as stored, without re-reading the whole memory. A learner
   * without it is rebuilt from the memory instead.
   */
  absorb?(patterns: readonly Pattern[]): void;
}

export interface PatternLearnerOptions {
  readonly space: FeatureSpace;
  /** Where committed patterns go; without one the learner keeps them in memory only. */
  readonly memory?: PatternMemory;
  /** Recorded as each new pattern's origin and used as its id prefix. */
  readonly agentId?: string;
  /** Step size of prototype and confidence updates once a pattern is mature; 0 < lr ≤ 1. Default 0.02. */
  readonly learningRate?: number;
  /** Neighbours that vote. Default 7. */
  readonly k?: number;
  /**
   * Cosine similarity at or above which an observation belongs to an
   * existing pattern. Default 0.9: on 2,500 bars of task A it keeps a few
   * hundred patterns, and 0.85 or 0.95 changed held-out accuracy by under 0.01.
   */
  readonly similarityThreshold?: number;
  /**
   * |vote| below this gives a flat position and no call. Default 0.1: at 0.2
   * a learner on a random walk abstained on ~98% of steps, leaving too few
   * calls to tell chance from skill.
   */
  readonly minEdge?: number;
  /** Default: exact search only, so a run is reproducible (see `PatternLearner.open`). */
  readonly hnsw?: VectorIndexOptions['hnsw'];
}

export type LearnerConfigErrorCode = 'LEARNER_CONFIG' | 'LEARNER_FEATURE_SPACE';

export class LearnerConfigError extends SwarmbankError {
  override readonly code: LearnerConfigErrorCode;

  constructor(
    code: LearnerConfigErrorCode,
    readonly option: string,
    message: string,
  ) {
    super(code, `learner option ${option}: ${message}`);
    this.code = code;
  }
}

interface WorkingPattern {
  readonly id: string;
  readonly embedding: Float32Array;
  readonly outcome: Outcome;
  confidence: number;
  support: number;
  successes: number;
  readonly origin: string;
  readonly plasticity: number;
}

/**
 * The default learner: a nearest-prototype model over patterns.
 *
 * Predicting: the k most similar patterns (cosine) each vote for their
 * outcome with weight similarity × edge, edge = 2·confidence − 1, so a
 * pattern right half the time carries no vote and one usually wrong votes
 * against its own outcome. The call is the sign of the weighted mean vote;
 * its strength is the mean's magnitude; under `minEdge` the learner stays flat.
 *
 * Learning from an outcome o at x: the nearest pattern within
 * `similarityThreshold` is updated — support + 1, successes + 1 if it
 * predicted o, confidence moved toward 1 (right) or 0 (wrong), and, when it
 * was right, its prototype moved toward x. The step is
 * plasticity × max(lr, 1 / (support + 2)), support counted after the
 * update: a young pattern averages its first observations (its confidence
 * is exactly the Laplace estimate (successes + 1) / (support + 2) while that
 * step exceeds lr), a mature one tracks change at the learning rate, and a
 * consolidated one (plasticity 0.1) moves a tenth as far. A new pattern at x predicting o is created when
 * nothing lies within the threshold, or when the nearby patterns all
 * predict the other outcome, so a region where both outcomes occur holds a
 * pattern for each and their confidences carry the odds.
 *
 * Committing: every pattern changed since the last commit is written with
 * one `upsertMany`, one LMDB transaction, so an episode's learning is stored
 * whole or not at all and a crash mid-episode loses only that episode. A
 * failed commit keeps the changes pending, so the next one retries them.
 */
export class PatternLearner implements Learner {
  readonly featureSpaceId: string;
  private rate: number;
  private readonly patterns = new Map<string, WorkingPattern>();
  private readonly dirty = new Set<string>();
  private nextId = 0;
  private directionless = 0;

  private constructor(
    private readonly space: FeatureSpace,
    private readonly index: VectorIndex,
    private readonly memory: PatternMemory | undefined,
    private readonly agentId: string,
    learningRate: number,
    private readonly k: number,
    private readonly similarityThreshold: number,
    private readonly minEdge: number,
  ) {
    this.featureSpaceId = space.id;
    this.rate = learningRate;
  }

  /**
   * Opens a learner and loads every pattern already in `memory`. HNSW search
   * is off by default: its graph is built in the background, so whether it
   * or exact search answers — and so which neighbours vote — would depend on
   * timing, and the same seed must give the same learning curve.
   */
  static async open(options: PatternLearnerOptions): Promise<PatternLearner> {
    const { space, memory } = options;
    const learningRate = checkLearningRate(options.learningRate ?? 0.02);
    const k = options.k ?? 7;
    if (!Number.isInteger(k) || k < 1) throw new LearnerConfigError('LEARNER_CONFIG', 'k', `must be a positive integer, got ${k}`);
    const similarityThreshold = options.similarityThreshold ?? 0.9;
    if (!(similarityThreshold > -1 && similarityThreshold < 1)) {
      throw new LearnerConfigError('LEARNER_CONFIG', 'similarityThreshold', `must be in (−1, 1), got ${similarityThreshold}`);
    }
    const minEdge = options.minEdge ?? 0.1;
    if (!(minEdge >= 0 && minEdge < 1)) throw new LearnerConfigError('LEARNER_CONFIG', 'minEdge', `must be in [0, 1), got ${minEdge}`);
    const agentId = options.agentId ?? 'agent';
    if (agentId.length === 0) throw new LearnerConfigError('LEARNER_CONFIG', 'agentId', 'must be a non-empty string');
    if (memory !== undefined && (memory.featureSpaceId !== space.id || memory.dimensions !== space.dimensions)) {
      throw new LearnerConfigError(
        'LEARNER_FEATURE_SPACE',
        'memory',
        `holds ${memory.dimensions}-dimensional patterns of feature space ${memory.featureSpaceId}, the learner's is ${space.dimensions}-dimensional ${space.id}`,
      );
    }
    const index = await VectorIndex.open({ dimensions: space.dimensions, hnsw: options.hnsw ?? false, initialCapacity: memory?.count() });
    const learner = new PatternLearner(space, index, memory, agentId, learningRate, k, similarityThreshold, minEdge);
    if (memory !== undefined) {
      for (const pattern of memory.iterate()) learner.load(pattern);
      if (learner.directionless > 0) {
        process.emitWarning(
          `swarmbank learner: ignored ${learner.directionless} pattern(s) of ${memory.path} with an all-zero embedding, which no cosine search can use`,
          { code: 'SWARMBANK_ZERO_EMBEDDING' },
        );
      }
    }
    return learner;
  }

  /**
   * Patterns of the memory the learner left out because their embedding is
   * all zeros. A memory refuses such a write; this counts those stored
   * before it did, which would otherwise make every open throw.
   */
  get ignored(): number {
    return this.directionless;
  }

  get learningRate(): number {
    return this.rate;
  }

  /**
   * Changes the step size of the updates that follow (what is already
   * learned stays as it is), checked as the `learningRate` option is: in (0, 1].
   */
  setLearningRate(rate: number): void {
    this.rate = checkLearningRate(rate);
  }

  /**
   * Loads imported patterns as stored, replacing any working copy of the
   * same id: an import writes the memory between episodes, when nothing is
   * pending, so the memory's version is the one to keep.
   */
  absorb(patterns: readonly Pattern[]): void {
    for (const pattern of patterns) {
      this.dirty.delete(pattern.id);
      this.load(pattern);
    }
  }

  get size(): number {
    return this.patterns.size;
  }

  /** Patterns changed since the last commit. */
  get pending(): number {
    return this.dirty.size;
  }

  predict(features: Float32Array): Prediction {
    if (this.patterns.size === 0) return FLAT;
    let votes = 0;
    let weights = 0;
    for (const match of this.index.search(features, this.k)) {
      if (match.score <= 0) continue;
      const pattern = this.patterns.get(match.id)!;
      votes += match.score * (2 * pattern.confidence - 1) * (pattern.outcome === 'up' ? 1 : -1);
      weights += match.score;
    }
    const vote = weights > 0 ? votes / weights : 0;
    if (Math.abs(vote) < this.minEdge || vote === 0) return FLAT;
    return vote > 0
      ? { direction: 1, confidence: vote, position: 'long' }
      : { direction: -1, confidence: -vote, position: 'short' };
  }

  learn(features: Float32Array, outcome: Direction): LearnResult {
    if (outcome === 0) return NOTHING;
    const observed: Outcome = outcome > 0 ? 'up' : 'down';
    const near = this.patterns.size === 0 ? [] : this.index.search(features, this.k).filter((m) => m.score >= this.similarityThreshold);
    const nearest = near[0];
    const updated = nearest === undefined ? [] : [this.update(nearest, features, observed)];
    const created = near.some((m) => this.patterns.get(m.id)!.outcome === observed) ? [] : [this.create(features, observed)];
    return { created, updated };
  }

  exportPatterns(): PatternInput[] {
    return [...this.patterns.values()].map((p) => this.toInput(p));
  }

  /** Writes the patterns changed since the last commit in one transaction (see the class comment). */
  async commit(): Promise<void> {
    if (this.memory === undefined || this.dirty.size === 0) {
      this.dirty.clear();
      return;
    }
    const inputs = [...this.dirty].map((id) => this.toInput(this.patterns.get(id)!));
    await this.memory.upsertMany(inputs);
    this.dirty.clear();
  }

  /** Stops background index work; the memory stays open (its owner closes it). */
  close(): void {
    this.index.close();
  }

  private update(match: VectorMatch, features: Float32Array, observed: Outcome): string {
    const pattern = this.patterns.get(match.id)!;
    const hit = pattern.outcome === observed;
    pattern.support += 1;
    if (hit) pattern.successes += 1;
    const step = pattern.plasticity * Math.max(this.rate, 1 / (pattern.support + 2));
    pattern.confidence = clamp01(pattern.confidence + step * ((hit ? 1 : 0) - pattern.confidence));
    if (hit) {
      const e = pattern.embedding;
      for (let j = 0; j < e.length; j++) e[j] = e[j]! + step * (features[j]! - e[j]!);
    }
    this.reindex(pattern);
    this.dirty.add(pattern.id);
    return pattern.id;
  }

  private create(features: Float32Array, observed: Outcome): string {
    let id: string;
    do id = `${this.agentId}-${this.nextId++}`;
    while (this.patterns.has(id));
    // One observation under a uniform prior: the Laplace estimate (1 + 1) / (1 + 2).
    const pattern: WorkingPattern = {
      id,
      embedding: Float32Array.from(features),
      outcome: observed,
      confidence: 2 / 3,
      support: 1,
      successes: 1,
      origin: this.agentId,
      plasticity: 1,
    };
    this.patterns.set(id, pattern);
    this.reindex(pattern);
    this.dirty.add(id);
    return id;
  }

  private load(pattern: Pattern): void {
    if (isZeroVector(pattern.embedding)) {
      this.directionless++;
      return;
    }
    const working: WorkingPattern = {
      id: pattern.id,
      embedding: Float32Array.from(pattern.embedding),
      outcome: pattern.outcome,
      confidence: pattern.confidence,
      support: pattern.support,
      successes: pattern.successes,
      origin: pattern.origin,
      plasticity: pattern.plasticity,
    };
    this.patterns.set(pattern.id, working);
    this.reindex(working);
  }

  private reindex(pattern: WorkingPattern): void {
    const tags = [marketCondition(pattern.embedding, this.space)];
    this.index.upsert(pattern.id, pattern.embedding, { label: pattern.outcome, confidence: pattern.confidence, tags });
  }

  private toInput(pattern: WorkingPattern): PatternInput {
    return {
      id: pattern.id,
      embedding: Float32Array.from(pattern.embedding),
      outcome: pattern.outcome,
      confidence: pattern.confidence,
      support: pattern.support,
      successes: pattern.successes,
      origin: pattern.origin,
      featureSpaceId: this.space.id,
      condition: marketCondition(pattern.embedding, this.space),
      tags: patternNames(pattern.embedding, pattern.outcome, this.space),
    };
  }
}

const FLAT: Prediction = { direction: 0, confidence: 0, position: 'flat' };
const NOTHING: LearnResult = { created: [], updated: [] };

function checkLearningRate(rate: number): number {
  if (!(Number.isFinite(rate) && rate > 0 && rate <= 1)) throw new LearnerConfigError('LEARNER_CONFIG', 'learningRate', `must be in (0, 1], got ${rate}`);
  return rate;
}

function clamp01(value: number): number {
  return Math.min(1, Math.max(0, value));
}
