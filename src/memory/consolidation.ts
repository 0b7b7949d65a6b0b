import { compareIds } from './ids.js';
import { optionReader } from './options.js';
import type { Pattern } from './pattern.js';
import type { PatternMemory } from './store.js';

/**
 * Plasticity scales the learner's step on a pattern: it moves a prototype
 * and its confidence by learningRate × plasticity. Patterns start fully
 * plastic; consolidated ones move a tenth as far, so what carries the
 * knowledge of an earlier task survives training on the next one (the
 * forgetting scenario) while still adapting slowly.
 */
export const DEFAULT_PLASTICITY = 1;
export const CONSOLIDATED_PLASTICITY = 0.1;

/** Which patterns carry the knowledge: a fraction of the best, or every pattern with enough support. */
export type ConsolidationCriterion = { readonly topFraction: number } | { readonly minSupport: number };

export interface ConsolidationOptions {
  /** How patterns are ranked for `topFraction` and the exemplar buffer. Default `utility`. */
  readonly rank?: 'utility' | 'support';
  /** Plasticity of newly consolidated patterns, in [0, 1]. Default `CONSOLIDATED_PLASTICITY`. */
  readonly plasticity?: number;
  /** The rehearsal buffer. Default capacity 64. */
  readonly exemplars?: { readonly capacity: number };
}

export interface ConsolidationResult {
  /** Patterns consolidated by this call, in rank order. */
  readonly consolidated: readonly string[];
  /** Patterns the criterion chose that were consolidated already; left as they are. */
  readonly alreadyConsolidated: readonly string[];
  /** How many patterns of the memory are consolidated now. */
  readonly protectedCount: number;
  /** At most `exemplars.capacity` consolidated patterns, as stored after this call, for the learner to rehearse. */
  readonly exemplars: readonly Pattern[];
}

export const DEFAULT_EXEMPLAR_CAPACITY = 64;

/**
 * Marks the patterns that carry the knowledge as consolidated through the
 * memory's journaled `consolidate`: protected from eviction, and given a low
 * plasticity. Patterns are ranked by utility (confidence × support; no
 * recency, since knowledge does not expire by age) or by support, ties
 * broken by support, then id. `topFraction` takes the best ⌈fraction × n⌉;
 * `minSupport` takes every pattern with at least that support. Consolidation
 * is never undone here: release is an explicit `memory.release`.
 *
 * The exemplar buffer is the best-ranked consolidated patterns, taken in
 * turn from each (outcome, condition) stratum so that rehearsal covers
 * every kind of consolidated knowledge instead of the single most supported
 * one. It is returned, and persisted as the memory's exemplar buffer
 * (`memory.setExemplars`, journaled), so `memory.exemplars()` yields it
 * after a reopen or a rebuild from the journal.
 */
export async function consolidate(
  memory: PatternMemory,
  criterion: ConsolidationCriterion,
  options: ConsolidationOptions = {},
): Promise<ConsolidationResult> {
  const read = optionReader('consolidate');
  const c = read.only(criterion, ['topFraction', 'minSupport'], 'criterion');
  if (('topFraction' in c) === ('minSupport' in c)) read.fail('criterion', 'must set exactly one of topFraction, minSupport');
  const topFraction = 'topFraction' in c ? read.number('criterion.topFraction', c['topFraction'], 0, 1, true) : undefined;
  const minSupport = 'minSupport' in c ? read.count('criterion.minSupport', c['minSupport']) : 0;
  const o = read.only(options, ['rank', 'plasticity', 'exemplars']);
  const rank = o['rank'] ?? 'utility';
  if (rank !== 'utility' && rank !== 'support') read.fail('rank', `must be 'utility' or 'support', got ${JSON.stringify(rank)}`);
  const plasticity = o['plasticity'] === undefined ? CONSOLIDATED_PLASTICITY : read.number('plasticity', o['plasticity'], 0, 1);
  const exemplarOptions = o['exemplars'] === undefined ? {} : read.only(o['exemplars'], ['capacity'], 'exemplars');
  const capacity =
    exemplarOptions['capacity'] === undefined ? DEFAULT_EXEMPLAR_CAPACITY : read.positiveCount('exemplars.capacity', exemplarOptions['capacity']);

  const score = rank === 'utility' ? (p: Pattern) => p.confidence * p.support : (p: Pattern) => p.support;
  const ranked = [...memory.iterate()].sort((a, b) => score(b) - score(a) || b.support - a.support || compareIds(a.id, b.id));
  const chosen = topFraction === undefined ? ranked.filter((p) => p.support >= minSupport) : ranked.slice(0, topCount(topFraction, ranked.length));

  const fresh = chosen.filter((p) => !p.consolidated).map((p) => p.id);
  const written = fresh.length === 0 ? [] : await memory.consolidate(fresh, { plasticity });
  const now = new Map(written.map((p) => [p.id, p]));
  const consolidatedNow = ranked.filter((p) => p.consolidated || now.has(p.id)).map((p) => now.get(p.id) ?? p);
  const exemplars = stratifiedTop(consolidatedNow, capacity);
  await memory.setExemplars(exemplars.map((p) => p.id));
  return {
    consolidated: fresh,
    alreadyConsolidated: chosen.filter((p) => p.consolidated).map((p) => p.id),
    protectedCount: consolidatedNow.length,
    exemplars,
  };
}

/** ⌈fraction × n⌉, without the rounding error of the product (0.07 × 100 = 7.000000000000001) taking one pattern too many. */
function topCount(fraction: number, n: number): number {
  return Math.min(n, Math.ceil(fraction * n - 1e-9));
}

/** Round-robin over strata in order of their best pattern, each stratum contributing its next best. */
function stratifiedTop(ranked: readonly Pattern[], capacity: number): Pattern[] {
  const strata = new Map<string, Pattern[]>();
  for (const p of ranked) {
    const key = `${p.outcome}\u0000${p.condition ?? ''}`;
    const stratum = strata.get(key);
    if (stratum === undefined) strata.set(key, [p]);
    else stratum.push(p);
  }
  const queues = [...strata.values()];
  const picked: Pattern[] = [];
  for (let turn = 0; picked.length < capacity && picked.length < ranked.length; turn++) {
    for (const queue of queues) {
      const next = queue[turn];
      if (next !== undefined && picked.length < capacity) picked.push(next);
    }
  }
  return picked;
}
