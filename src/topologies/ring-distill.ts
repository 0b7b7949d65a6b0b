import { planDistillation, type DistillOptions } from '../memory/distill.js';
import type { Pattern } from '../memory/pattern.js';

export interface Distilled {
  /** What is handed over: survivors as they were, merged patterns as their clusters' leaders, with the merged values. */
  readonly patterns: readonly Pattern[];
  /** Patterns dropped as too weak: knowledge lost by the hand-over. */
  readonly pruned: number;
  /** Patterns folded into a near-duplicate: carried on, in the pattern that absorbed them. */
  readonly merged: number;
}

/**
 * A stage's knowledge as it is handed on: `planDistillation` applied to a
 * copy, so the sender's own memory is left as it was and only what travels
 * is distilled.
 */
export function distilled(patterns: readonly Pattern[], dimensions: number, options: DistillOptions): Distilled {
  const plan = planDistillation(patterns, dimensions, options);
  const merges = new Map(plan.merges.map((merge) => [merge.into, merge.pattern]));
  const gone = new Set([...plan.prunes, ...plan.merges.flatMap((merge) => merge.from)]);
  const kept = patterns
    .filter((pattern) => !gone.has(pattern.id))
    .map((pattern) => {
      const merged = merges.get(pattern.id);
      if (merged === undefined) return pattern;
      const { featureSpaceId: _space, plasticity: _plasticity, tags, ...values } = merged;
      return { ...pattern, ...values, tags: tags ?? pattern.tags, version: pattern.version + 1 };
    });
  return { patterns: kept, pruned: plan.prunes.length, merged: plan.merges.reduce((n, merge) => n + merge.from.length, 0) };
}
