import { dispatch } from '../actors/ask.js';
import { stateless, type Behaviour } from '../actors/behaviour.js';
import type { ActorRef } from '../actors/ref.js';
import type { FeatureSeries } from '../learning/episode.js';
import { marketCondition, type FeatureSpace, type MarketCondition } from '../learning/features.js';
import { scoredSteps } from '../market/outcomes.js';

/** The condition of each scored step of a window that has features (steps in the feature warm-up are left out). */
export interface Conditions {
  readonly steps: readonly number[];
  readonly conditions: readonly MarketCondition[];
}

export type DetectorMessage = {
  readonly type: 'classify';
  readonly series: FeatureSeries;
  readonly start: number;
  readonly length: number;
  readonly replyTo: ActorRef<Conditions>;
};

/**
 * The market-condition detector: reads each step's condition from its
 * feature vector with `marketCondition` (volatile when short-term
 * volatility or ATR runs 1.5× the long-term one, trending when the 10-bar
 * return is 1.5 σ√10 or more, ranging otherwise) — never from the
 * simulator's latent regime, which no trader sees. Stateless, so a restart
 * loses nothing.
 */
export function conditionDetector(space: FeatureSpace): Behaviour<DetectorMessage> {
  return stateless<DetectorMessage>((message) => {
    const { series, start, length } = message;
    const steps: number[] = [];
    const conditions: MarketCondition[] = [];
    for (const i of scoredSteps({ start, end: start + length }, series.bars.length, 1)) {
      const features = series.features[i];
      if (features === undefined) continue;
      steps.push(i);
      conditions.push(marketCondition(features, space));
    }
    dispatch(message.replyTo, { steps, conditions });
  });
}
