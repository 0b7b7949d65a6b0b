import type { Outcome } from '../memory/pattern.js';
import { marketCondition, type FeatureSpace } from './features.js';

/**
 * The names a learned pattern carries as tags, so that people (and the
 * warm-start scenario's `preloadPatterns`) can ask for patterns by what they
 * mean rather than by id:
 * - its market condition: `trending`, `ranging` or `volatile`;
 * - its shape, the predicted move read against the shortest-lag return:
 *   `bullish_continuation`, `bullish_reversal`, `bearish_continuation`, `bearish_reversal`;
 * - a level, when the close sits at least `LEVEL_ZSCORE` standard deviations
 *   from its moving average and the pattern predicts a move back toward it:
 *   `support_level` (below, predicting up) or `resistance_level` (above, predicting down).
 */
export const PATTERN_NAMES = [
  'trending',
  'ranging',
  'volatile',
  'bullish_continuation',
  'bullish_reversal',
  'bearish_continuation',
  'bearish_reversal',
  'support_level',
  'resistance_level',
] as const;

export type PatternName = (typeof PATTERN_NAMES)[number];

const LEVEL_ZSCORE = 1;

export function patternNames(embedding: ArrayLike<number>, outcome: Outcome, space: FeatureSpace): PatternName[] {
  const at = (name: string): number => embedding[space.names.indexOf(name)] ?? 0;
  const lastMove = at(`return_${Math.min(...space.definition.returnLags)}`);
  const side = outcome === 'up' ? 'bullish' : 'bearish';
  const follows = (lastMove >= 0) === (outcome === 'up');
  const names: PatternName[] = [marketCondition(embedding, space), `${side}_${follows ? 'continuation' : 'reversal'}`];
  const zscore = at('close_zscore');
  if (outcome === 'up' && zscore <= -LEVEL_ZSCORE) names.push('support_level');
  if (outcome === 'down' && zscore >= LEVEL_ZSCORE) names.push('resistance_level');
  return names;
}
