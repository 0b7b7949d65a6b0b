import type { Direction } from '../market/outcomes.js';

/**
 * The mesh's decision on one step: up or down when at least `threshold` of
 * the live agents call it, else 0 — the mesh abstains. A flat agent counts
 * among the live but votes for neither side, so abstaining agents make
 * consensus harder, as they should.
 */
export function consensus(calls: readonly Direction[], live: number, threshold: number): Direction {
  if (live === 0) return 0;
  let up = 0;
  let down = 0;
  for (const call of calls) {
    if (call > 0) up++;
    else if (call < 0) down++;
  }
  if (up >= threshold * live && up > down) return 1;
  if (down >= threshold * live && down > up) return -1;
  return 0;
}
