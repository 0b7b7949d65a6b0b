import { compareIds } from './ids.js';
import { clusterNearDuplicates } from './near-duplicates.js';
import { optionReader } from './options.js';
import { isZeroVector, type Pattern, type PatternInput } from './pattern.js';
import type { PatternMemory } from './store.js';

export interface DistillOptions {
  /** Cosine similarity at or above which two patterns are near-duplicates, in (0, 1]. */
  readonly similarity: number;
  /** Patterns supported by fewer observations are pruned. */
  readonly minSupport: number;
  /** Patterns trusted less are pruned, in [0, 1]. */
  readonly minConfidence: number;
}

export interface DistillMerge {
  /** The surviving pattern: the cluster's leader, whose id the merged pattern keeps. */
  readonly into: string;
  /** The patterns folded into it and removed. */
  readonly from: readonly string[];
}

export interface DistillResult {
  readonly merged: readonly DistillMerge[];
  readonly pruned: readonly string[];
  /** Bytes of pages the patterns database takes (`bytesUsed().patterns`) before and after. */
  readonly bytesBefore: number;
  readonly bytesAfter: number;
  /** 1 − bytesAfter / bytesBefore; 0 for an empty memory. Negative if the pages grew. */
  readonly reduction: number;
  readonly patternsBefore: number;
  readonly patternsAfter: number;
}

/** What distill would do to a set of patterns, decided without touching a memory. */
export interface DistillPlan {
  readonly merges: readonly { readonly into: string; readonly from: readonly string[]; readonly pattern: PatternInput }[];
  readonly prunes: readonly string[];
}

/**
 * Merges near-duplicate patterns and prunes weak ones.
 *
 * Near-duplicates are patterns of the same outcome, condition and tag set
 * whose embeddings have cosine similarity of at least `similarity`. They are
 * clustered greedily (see `clusterNearDuplicates`) in a fixed order:
 * consolidated patterns first, then by support, highest first, then by id.
 * Each cluster's leader absorbs the rest through the memory's journaled
 * `merge`, so replaying the journal reproduces the result. The merged
 * pattern keeps the leader's id, origin and labels; its embedding and
 * confidence are the support-weighted means of the cluster's (plain means
 * when no member has support), its support and successes are the sums, and
 * the store gives it the highest version among the cluster plus one.
 *
 * A cluster whose merged embedding would round to all zeros in float32
 * (possible only for denormal-sized embeddings) is left unmerged: a memory
 * refuses a pattern without a direction.
 *
 * A consolidated pattern is never removed: it leads its cluster and may
 * absorb others, but is never absorbed, and is never pruned.
 *
 * Pruning then removes, through the memory's journaled `delete`, every
 * unconsolidated pattern whose support is below `minSupport` or whose
 * confidence is below `minConfidence`, judged after merging: a cluster of
 * weak duplicates may add up to a pattern worth keeping.
 *
 * The plan is computed from one read of the memory; each merge and prune is
 * then its own atomic change. Run it where nothing else writes the same
 * patterns meanwhile (the owning agent between episodes), or a concurrent
 * write may be overwritten by a merge, or make one fail.
 *
 * Cost: a sort, then `clusterNearDuplicates` (O(n²) cheap visits at worst
 * for n patterns; about 0.5 s for 10,000 clustered patterns of 64
 * dimensions), then one write per merge and prune, all issued at once so the
 * store batches them.
 */
export async function distill(memory: PatternMemory, options: DistillOptions): Promise<DistillResult> {
  const checked = readDistillOptions(options);
  const bytesBefore = memory.bytesUsed().patterns;
  const patterns = [...memory.iterate()];
  const plan = planDistillation(patterns, memory.dimensions, checked);

  await settleAll(plan.merges.map((merge) => memory.merge([merge.into, ...merge.from], merge.pattern)));
  await settleAll(plan.prunes.map((id) => memory.delete(id)));

  const bytesAfter = memory.bytesUsed().patterns;
  return {
    merged: plan.merges.map(({ into, from }) => ({ into, from })),
    pruned: plan.prunes,
    bytesBefore,
    bytesAfter,
    reduction: bytesBefore === 0 ? 0 : 1 - bytesAfter / bytesBefore,
    patternsBefore: patterns.length,
    patternsAfter: memory.count(),
  };
}

/** What `distill` would merge and prune, without writing: for a dry run, or to inspect a memory's redundancy. */
export function planDistillation(patterns: readonly Pattern[], dimensions: number, options: DistillOptions): DistillPlan {
  const { similarity, minSupport, minConfidence } = readDistillOptions(options);
  const ordered = [...patterns].sort(
    (a, b) => Number(b.consolidated) - Number(a.consolidated) || b.support - a.support || compareIds(a.id, b.id),
  );
  const clusters = clusterNearDuplicates(
    ordered.map((p) => ({ embedding: p.embedding, group: labelsOf(p), absorbable: !p.consolidated })),
    dimensions,
    similarity,
  );

  const absorbed = new Set<string>();
  const merges: DistillPlan['merges'][number][] = [];
  for (const indices of clusters) {
    const members = indices.map((i) => ordered[i] as Pattern);
    const [leader, ...rest] = members as [Pattern, ...Pattern[]];
    const pattern = mergedInput(leader, members, dimensions);
    // Members all lean towards the leader, so their mean never cancels out, yet a mean of denormals can round to zero in float32; the memory would refuse that merge.
    if (isZeroVector(pattern.embedding)) continue;
    for (const p of rest) absorbed.add(p.id);
    merges.push({ into: leader.id, from: rest.map((p) => p.id), pattern });
  }

  const mergedById = new Map(merges.map((merge) => [merge.into, merge.pattern]));
  const prunes = ordered
    .filter((p) => {
      if (p.consolidated || absorbed.has(p.id)) return false;
      const result = mergedById.get(p.id) ?? p;
      return result.support < minSupport || result.confidence < minConfidence;
    })
    .map((p) => p.id)
    .sort(compareIds);
  return { merges, prunes };
}

function readDistillOptions(options: unknown): DistillOptions {
  const read = optionReader('distill');
  const o = read.only(options, ['similarity', 'minSupport', 'minConfidence']);
  return {
    similarity: read.number('similarity', o['similarity'], 0, 1, true),
    minSupport: read.count('minSupport', o['minSupport']),
    minConfidence: read.number('minConfidence', o['minConfidence'], 0, 1),
  };
}

/** Patterns may only merge when everything the learner filters and predicts by agrees; tags are compared as sets. */
function labelsOf(p: Pattern): string {
  return JSON.stringify([p.outcome, p.condition ?? null, [...new Set(p.tags)].sort()]);
}

function mergedInput(leader: Pattern, members: readonly Pattern[], dimensions: number): PatternInput {
  const totalSupport = members.reduce((sum, p) => sum + p.support, 0);
  // Members without support would otherwise vanish from the mean; with no support anywhere each counts once.
  const weight = (p: Pattern): number => (totalSupport === 0 ? 1 : p.support);
  const totalWeight = totalSupport === 0 ? members.length : totalSupport;
  const sum = new Float64Array(dimensions);
  let confidence = 0;
  for (const p of members) {
    const w = weight(p);
    for (let k = 0; k < dimensions; k++) sum[k] = (sum[k] as number) + w * (p.embedding[k] as number);
    confidence += w * p.confidence;
  }
  return {
    id: leader.id,
    embedding: Float32Array.from(sum, (value) => value / totalWeight),
    outcome: leader.outcome,
    // Rounding can carry a mean of values within 0..1 just outside it.
    confidence: Math.min(1, Math.max(0, confidence / totalWeight)),
    support: totalSupport,
    successes: members.reduce((total, p) => total + p.successes, 0),
    origin: leader.origin,
    tags: leader.tags,
    ...(leader.condition === undefined ? {} : { condition: leader.condition }),
  };
}

/** Waits for every write before reporting a failure, so nothing is still in flight when distill rejects. */
async function settleAll(writes: readonly Promise<unknown>[]): Promise<void> {
  const outcomes = await Promise.allSettled(writes);
  const failure = outcomes.find((outcome) => outcome.status === 'rejected');
  if (failure !== undefined) throw failure.reason;
}
