import { episodeStarts, featureSeries, type FeatureSeries } from '../learning/episode.js';
import type { FeatureSpace } from '../learning/features.js';
import { DEFAULT_ASSETS, type AssetSpec } from '../market/assets.js';
import type { Bar } from '../market/bars.js';
import { MarketOptionsError } from '../market/errors.js';
import { simulateMarket } from '../market/simulator.js';
import type { MarketTask } from '../market/tasks.js';
import { volatilityIndex } from '../market/vix.js';
import type { VolatilityStretch } from '../market/volatility-profile.js';
import { createRandom } from '../random.js';

/** The market a deployment learns from: the simulator, seeded, or real bars. */
export interface MarketSpec {
  /**
   * Real OHLCV bars (e.g. `loadSp500().bars`) instead of the simulator. Every
   * agent trains on the same series, episode after episode from its start;
   * the last `evalEpisodes` episodes are held out for evaluation, so agents
   * are always scored on bars after everything they trained on. Real data has
   * no latent state: the oracle's accuracy is NaN.
   */
  readonly bars?: readonly Bar[];
  /** Default: the deployment's seed. */
  readonly seed?: number;
  /** Dynamics and regime chain; default the simulator's. */
  readonly task?: MarketTask;
  /** Volatility over time, by bars from the first; see `volatilityRegimeChange`. */
  readonly volatilityProfile?: readonly VolatilityStretch[];
  /** Bars per episode. Default 64. */
  readonly episodeLength?: number;
  /** Held-out episodes each evaluation scores. Default 8. */
  readonly evalEpisodes?: number;
}

export interface EpisodeWindow {
  readonly series: FeatureSeries;
  readonly start: number;
  readonly length: number;
}

/**
 * Market data for a deployment. Each agent watches its own instrument: a
 * stream simulated from the seed and the agent's key, with the same
 * dynamics for all, so agents learn different examples of one market and
 * sharing knowledge is worth something. An agent that restarts, or one
 * added later, gets its stream by key, so the same seed gives every agent
 * the same bars whenever it joins. Evaluation uses one held-out stream,
 * shared by all, so accuracies and votes are comparable. With real bars
 * (`MarketSpec.bars`) all agents share the one series instead, and the
 * held-out episodes are its last ones.
 */
export class MarketFeed {
  readonly episodeLength: number;
  readonly held: { readonly series: FeatureSeries; readonly starts: readonly number[] };
  private readonly streams = new Map<string, FeatureSeries>();
  private readonly vixByKey = new Map<string, readonly number[]>();
  private readonly seed: number;

  /** With real bars: the one series every agent trains on, and the first bar held out. */
  private readonly real: { readonly series: FeatureSeries; readonly vix: readonly number[]; readonly heldFrom: number } | undefined;

  constructor(
    private readonly space: FeatureSpace,
    private readonly spec: MarketSpec,
    deploymentSeed: number,
    private readonly episodes: number,
  ) {
    this.seed = spec.seed ?? deploymentSeed;
    this.episodeLength = spec.episodeLength ?? 64;
    const evalEpisodes = spec.evalEpisodes ?? 8;
    if (spec.bars !== undefined) {
      const series = featureSeries(spec.bars, space);
      const heldFrom = spec.bars.length - 1 - evalEpisodes * this.episodeLength;
      const room = Math.floor((heldFrom - (space.lookback - 1)) / this.episodeLength);
      if (room < episodes) {
        throw new MarketOptionsError(
          'bars',
          `${spec.bars.length} bars hold ${Math.max(0, room)} training episodes of ${this.episodeLength} before the ${evalEpisodes} held-out ones; ${episodes} were asked for`,
        );
      }
      this.real = { series, vix: volatilityIndex(spec.bars), heldFrom };
      this.held = { series, starts: Array.from({ length: evalEpisodes }, (_, i) => heldFrom + i * this.episodeLength) };
      return;
    }
    this.real = undefined;
    const heldSeries = this.simulate('held-out', evalEpisodes, DEFAULT_ASSETS[0]!);
    this.held = { series: heldSeries, starts: episodeStarts(heldSeries, { length: this.episodeLength }).slice(0, evalEpisodes) };
  }

  /** Episode `episode` (1-based) of the stream named `key`. */
  episode(key: string, episode: number): EpisodeWindow {
    const series = this.stream(key);
    const start = this.space.lookback - 1 + (episode - 1) * this.episodeLength;
    return { series, start, length: this.episodeLength };
  }

  /** Mean of the VIX-like index over the episode's bars of stream `key`, NaN while its window fills. */
  vix(key: string, episode: number): number {
    const { start, length } = this.episode(key, episode);
    const vix = this.vixSeries(key).slice(start, start + length).filter(Number.isFinite);
    return vix.length === 0 ? Number.NaN : vix.reduce((a, b) => a + b, 0) / vix.length;
  }

  stream(key: string): FeatureSeries {
    if (this.real !== undefined) return this.real.series;
    let series = this.streams.get(key);
    if (series === undefined) {
      // The instrument is drawn from the key, not from the order agents join, so a stream never depends on who asked first.
      const asset = DEFAULT_ASSETS[createRandom(this.seed).fork(`asset:${key}`).int(0, DEFAULT_ASSETS.length - 1)]!;
      series = this.simulate(`agent:${key}`, this.episodes, asset);
      this.streams.set(key, series);
    }
    return series;
  }

  private vixSeries(key: string): readonly number[] {
    if (this.real !== undefined) return this.real.vix;
    this.stream(key);
    return this.vixByKey.get(`agent:${key}`) ?? [];
  }

  private simulate(label: string, episodes: number, asset: AssetSpec): FeatureSeries {
    const market = simulateMarket({
      seed: createRandom(this.seed).fork(label).int(0, 2 ** 31 - 1),
      length: this.space.lookback + episodes * this.episodeLength + 1,
      assets: [asset],
      ...(this.spec.task ?? {}),
      ...(this.spec.volatilityProfile === undefined ? {} : { volatilityProfile: this.spec.volatilityProfile }),
    });
    const simulated = market.assets[0]!;
    this.vixByKey.set(label, simulated.vix);
    return featureSeries(simulated.bars, this.space, simulated.latent);
  }
}
