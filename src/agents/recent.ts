import type { Direction } from '../market/outcomes.js';
import type { Pattern } from '../memory/pattern.js';

/** How an incoming pattern is checked against what the receiving agent has seen lately. */
export interface ScreenOptions {
  /** Cosine similarity at which an observation bears on a pattern, in (0, 1]. */
  readonly similarity: number;
  /** Observations needed before a pattern can be judged; with fewer it is accepted. */
  readonly minMatches: number;
  /** A judged pattern is refused when the share of those observations that went its way is below this, in [0, 1]. */
  readonly minAgreement: number;
}

/** Similarity as the default learner's: an observation this close would have updated the pattern. */
export const DEFAULT_SCREEN: ScreenOptions = { similarity: 0.9, minMatches: 5, minAgreement: 0.35 };

interface Observation {
  readonly features: Float32Array;
  readonly norm: number;
  readonly outcome: Direction;
}

/**
 * The last observations an agent trained on, kept to judge patterns that
 * arrive from elsewhere: a pattern whose near neighbours in the agent's own
 * recent data mostly went the other way contradicts what the agent sees,
 * however valid its fields. Held in memory per incarnation: after a restart
 * the agent judges again once it has trained.
 */
export class RecentObservations {
  private readonly ring: (Observation | undefined)[];
  private next = 0;

  constructor(readonly capacity = 512) {
    this.ring = new Array<Observation | undefined>(capacity);
  }

  add(features: Float32Array, outcome: Direction): void {
    if (outcome === 0) return;
    this.ring[this.next] = { features, norm: norm(features), outcome };
    this.next = (this.next + 1) % this.capacity;
  }

  /** Whether `pattern` contradicts the recent observations (see `ScreenOptions`). */
  contradicts(pattern: Pattern, options: ScreenOptions): boolean {
    const wanted: Direction = pattern.outcome === 'up' ? 1 : -1;
    const patternNorm = norm(pattern.embedding);
    let matches = 0;
    let agree = 0;
    for (const seen of this.ring) {
      if (seen === undefined || patternNorm === 0 || seen.norm === 0) continue;
      if (dot(seen.features, pattern.embedding) / (seen.norm * patternNorm) < options.similarity) continue;
      matches++;
      if (seen.outcome === wanted) agree++;
    }
    return matches >= options.minMatches && agree / matches < options.minAgreement;
  }
}

function dot(a: Float32Array, b: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i]! * b[i]!;
  return sum;
}

function norm(a: Float32Array): number {
  return Math.sqrt(dot(a, a));
}
