import { decodePattern } from './codec.js';
import type { Databases, MemoryFormat } from './databases.js';
import type { Pattern } from './pattern.js';
import { scanRange } from './ranges.js';

export const DEFAULT_RECENCY_HALF_LIFE_MS = 7 * 24 * 60 * 60 * 1000;

/**
 * What a pattern is worth keeping when the memory is over capacity:
 *
 *   utility = confidence × support × recency
 *   recency = 2^(−(now − updatedAt) / halfLife)
 *
 * Recency halves every `halfLife` since the pattern was last written, so a
 * pattern nobody touched for one half-life needs twice the
 * confidence × support of a fresh one to survive. A pattern with no support
 * or no confidence has no utility at all, however fresh.
 */
export function utility(pattern: Pattern, now: number, halfLifeMs: number): number {
  return pattern.confidence * pattern.support * 2 ** (-(now - pattern.updatedAt) / halfLifeMs);
}

/**
 * The key of a pattern in the eviction index; the first key is the next
 * victim. Because every pattern's recency decays at the same rate, the
 * ratio of two utilities does not depend on `now`, and
 *
 *   log2(utility) + now / halfLife = log2(confidence × support) + updatedAt / halfLife
 *
 * ranks patterns exactly as utility does at every moment. The index can
 * therefore be written once per mutation and never re-sorted. Ties (all
 * zero-utility patterns rank at −Infinity) go to the least recently
 * written, then to the smaller id, so eviction is deterministic.
 */
export type EvictionKey = [rank: number, updatedAt: number, id: string];

export function evictionKey(pattern: Pattern, halfLifeMs: number): EvictionKey {
  return [Math.log2(pattern.confidence * pattern.support) + pattern.updatedAt / halfLifeMs, pattern.updatedAt, pattern.id];
}

const EMPTY = new Uint8Array(0);

/**
 * Indexes every evictable pattern, once: a memory is indexed from the first
 * time it is opened with a capacity, and only then, so memories without one
 * pay nothing for eviction on each write.
 */
export async function buildEvictionIndex(dbs: Databases, format: MemoryFormat): Promise<void> {
  if (dbs.meta.get('evictionIndexed') === true) return;
  await dbs.root.childTransaction(() => {
    // Another process may have built it since the check above.
    if (dbs.meta.get('evictionIndexed') === true) return;
    for (const pattern of scanRange(dbs.patterns, 'patterns', {}, (_key, value) => decodePattern(value, format), (p) => p.id)) {
      if (!pattern.consolidated) dbs.eviction.put(evictionKey(pattern, format.recencyHalfLifeMs), EMPTY);
    }
    dbs.meta.put('evictionIndexed', true);
  });
}
