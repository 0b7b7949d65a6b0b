import { describe, expect, it } from 'vitest';
import { featureSpace } from '../../src/learning/features.js';
import { MarketFeed } from '../../src/topologies/market-feed.js';
import { simulateMarket } from '../../src/market/simulator.js';

const space = featureSpace();

describe('market feed', () => {
  it('gives each agent its own stream, the same for the same seed and key whenever it is asked for', () => {
    const feed = new MarketFeed(space, {}, 1, 4);
    const again = new MarketFeed(space, {}, 1, 4);
    expect(again.stream('agent-1').bars).not.toEqual(feed.stream('agent-2').bars);
    expect(again.stream('agent-2').bars).toEqual(feed.stream('agent-2').bars);
    expect(new MarketFeed(space, {}, 2, 4).stream('agent-2').bars).not.toEqual(feed.stream('agent-2').bars);
  });

  it('lays episodes end to end after the feature warm-up, each with a full window of features and outcomes', () => {
    const feed = new MarketFeed(space, { episodeLength: 32 }, 1, 3);
    const windows = [1, 2, 3].map((e) => feed.episode('a', e));
    expect(windows.map((w) => w.start)).toEqual([space.lookback - 1, space.lookback + 31, space.lookback + 63]);
    const last = windows[2]!;
    expect(last.series.features[last.start + 31]).toBeDefined();
    expect(last.series.bars.length).toBeGreaterThan(last.start + 32);
  });

  it('holds out one shared evaluation stream of the asked size', () => {
    const feed = new MarketFeed(space, { evalEpisodes: 3 }, 1, 2);
    expect(feed.held.starts).toHaveLength(3);
    expect(feed.held.series.latent).toBeDefined();
  });
});

describe('market feed on real bars', () => {
  const bars = simulateMarket({ seed: 5, length: 1_000 }).assets[0]!.bars;

  it('gives every agent the one series, and holds out its last episodes, after every training bar', () => {
    const feed = new MarketFeed(space, { bars, evalEpisodes: 2, episodeLength: 50 }, 1, 10);
    expect(feed.stream('a')).toBe(feed.stream('b'));
    const lastTraining = feed.episode('a', 10);
    expect(lastTraining.start + lastTraining.length).toBeLessThanOrEqual(feed.held.starts[0]!);
    expect(feed.held.starts).toEqual([bars.length - 101, bars.length - 51]);
    expect(feed.held.series.latent).toBeUndefined();
  });

  it('refuses more training episodes than the bars hold before the held-out ones, saying how many fit', () => {
    expect(() => new MarketFeed(space, { bars, evalEpisodes: 2, episodeLength: 50 }, 1, 100)).toThrow(/1000 bars hold 17 training episodes of 50 before the 2 held-out ones; 100 were asked for/);
  });
});
