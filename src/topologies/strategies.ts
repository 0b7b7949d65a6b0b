/** The strategies of the multi-strategy topology, and the market conditions its meta-learner tells apart. */
export const STRATEGIES = ['momentum', 'mean-reversion', 'breakout'] as const;
export type Strategy = (typeof STRATEGIES)[number];

export const MARKET_CONDITIONS = ['trending', 'ranging', 'volatile'] as const;
