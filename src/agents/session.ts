import type { FeatureSpace } from '../learning/features.js';
import type { Learner } from '../learning/learner.js';
import type { Pattern } from '../memory/pattern.js';
import type { PatternMemory } from '../memory/store.js';
import { AgentOptionsError } from './errors.js';
import { openOwnedMemory, type OwnedMemoryOptions } from './owned-memory.js';
import { RecentObservations } from './recent.js';

/** A learner that may hold resources of its own (the pattern learner's vector index does). */
export type AgentLearner = Learner & { close?(): void };

/** Builds the agent's learner over its memory, loading what the memory holds. */
export type LearnerFactory = (memory: PatternMemory) => Promise<AgentLearner>;

export interface SessionSettings {
  readonly space: FeatureSpace;
  readonly memory: PatternMemory | OwnedMemoryOptions;
  readonly learner: LearnerFactory;
}

/**
 * What one incarnation of an agent works with: the pattern memory (lent by
 * the caller, or opened here and owned) and a learner loaded from it. The
 * memory is the truth and the learner a cache of it, so the learner is
 * rebuilt whenever something other than training writes the memory.
 */
export class AgentSession {
  /** What the agent trained on lately, to judge patterns that arrive from elsewhere. */
  readonly recent = new RecentObservations();

  private constructor(
    readonly memory: PatternMemory,
    private current: AgentLearner,
    private readonly settings: SessionSettings,
    private readonly owned: boolean,
  ) {}

  static async open(settings: SessionSettings): Promise<AgentSession> {
    const owned = !isPatternMemory(settings.memory);
    const memory = isPatternMemory(settings.memory) ? settings.memory : await openOwnedMemory(settings.memory, settings.space);
    try {
      return new AgentSession(memory, await openLearner(memory, settings), settings, owned);
    } catch (error) {
      if (owned) await memory.close();
      throw error;
    }
  }

  get learner(): Learner {
    return this.current;
  }

  /** Brings the learner up to date with patterns an import just wrote: in place if it can take them in, else by a reload. */
  async absorb(patterns: readonly Pattern[]): Promise<void> {
    if (patterns.length === 0) return;
    if (this.current.absorb !== undefined) this.current.absorb(patterns);
    else await this.reload();
  }

  /** Replaces the learner with one loaded from the memory as it is now. */
  async reload(): Promise<void> {
    const next = await openLearner(this.memory, this.settings);
    this.current.close?.();
    this.current = next;
  }

  /** Closes the learner, and the memory if the session opened it. */
  async close(): Promise<void> {
    this.current.close?.();
    if (this.owned) await this.memory.close();
  }
}

export function isPatternMemory(memory: PatternMemory | OwnedMemoryOptions): memory is PatternMemory {
  return typeof (memory as Partial<PatternMemory>).iterate === 'function';
}

async function openLearner(memory: PatternMemory, settings: SessionSettings): Promise<AgentLearner> {
  const learner = await settings.learner(memory);
  if (learner.featureSpaceId !== settings.space.id) {
    learner.close?.();
    throw new AgentOptionsError('learner', `built a learner of feature space ${learner.featureSpaceId}, the agent's is ${settings.space.id}`);
  }
  return learner;
}
