import { createRandom, type Random } from '../random.js';
import { DEFAULT_ASSETS, type AssetSpec } from './assets.js';
import type { Bar } from './bars.js';
import { DEFAULT_DYNAMICS, validateDynamics, type MarketDynamics } from './dynamics.js';
import { MarketOptionsError } from './errors.js';
import { gaussian } from './gaussian.js';
import type { LatentState, VolatilePhase } from './latent.js';
import { DEFAULT_TRANSITIONS, REGIMES, drawRegime, stationaryDistribution, validateTransitions, type Regime, type TransitionMatrix } from './regimes.js';
import { DEFAULT_VIX_WINDOW, volatilityIndex } from './vix.js';
import type { VolatilityStretch } from './volatility-profile.js';

export interface MarketOptions {
  readonly seed: number;
  /** Bars per asset. Default 2,000, or the profile's total when a volatility profile is given. */
  readonly length?: number;
  readonly assets?: readonly AssetSpec[];
  readonly dynamics?: MarketDynamics;
  readonly transitions?: TransitionMatrix;
  /** Regime of the first bar; by default drawn from the chain's stationary distribution. */
  readonly initialRegime?: Regime;
  /** Scales over time; after the last stretch its scale carries on. Default: scale 1 throughout. */
  readonly volatilityProfile?: readonly VolatilityStretch[];
  /** Window of the VIX-like index (see `vix.ts`). Default 21. */
  readonly vixWindow?: number;
  /** Time of the first bar, epoch ms; bars are one calendar day apart. Default 2000-01-03 UTC. */
  readonly startTime?: number;
}

export interface SimulatedAsset {
  readonly spec: AssetSpec;
  readonly bars: readonly Bar[];
  /** latent[i] is the state after bar i closes: what the oracle uses to call bar i + 1 onward. */
  readonly latent: readonly LatentState[];
  /** VIX-like index per bar; NaN until the window fills. */
  readonly vix: readonly number[];
}

export interface SimulatedMarket {
  readonly seed: number;
  readonly assets: readonly SimulatedAsset[];
}

export const DEFAULT_LENGTH = 2_000;
const DAY_MS = 86_400_000;
const DEFAULT_START = Date.UTC(2000, 0, 3);

/**
 * A seeded regime-switching market. Each asset draws from its own stream
 * forked from the seed by asset id, so the same seed gives the same bars bit
 * for bit, and adding or removing an asset leaves the others unchanged. Each
 * asset also has its own regime path: regimes are per asset, not market-wide.
 */
export function simulateMarket(options: MarketOptions): SimulatedMarket {
  const assets = options.assets ?? DEFAULT_ASSETS;
  const dynamics = options.dynamics ?? DEFAULT_DYNAMICS;
  const transitions = options.transitions ?? DEFAULT_TRANSITIONS;
  const profile = options.volatilityProfile ?? [];
  const length = options.length ?? (profile.length > 0 ? profile.reduce((n, s) => n + s.bars, 0) : DEFAULT_LENGTH);
  validate(options, assets, length, profile);
  validateDynamics(dynamics);
  validateTransitions(transitions);
  const root = createRandom(options.seed);
  const scales = scaleSeries(profile, length);
  return {
    seed: options.seed,
    assets: assets.map((spec) => {
      const { bars, latent } = simulateAsset(spec, root.fork(`asset:${spec.id}`), {
        dynamics,
        transitions,
        scales,
        initialRegime: options.initialRegime,
        startTime: options.startTime ?? DEFAULT_START,
      });
      return { spec, bars, latent, vix: volatilityIndex(bars, { window: options.vixWindow ?? DEFAULT_VIX_WINDOW }) };
    }),
  };
}

interface AssetRun {
  readonly dynamics: MarketDynamics;
  readonly transitions: TransitionMatrix;
  readonly scales: readonly number[];
  readonly initialRegime: Regime | undefined;
  readonly startTime: number;
}

/** Regime switches, noise and bar shapes each draw from their own stream, so changing one never reshuffles the others. */
function simulateAsset(spec: AssetSpec, random: Random, run: AssetRun): { bars: Bar[]; latent: LatentState[] } {
  const { dynamics: d, transitions } = run;
  const regimeRandom = random.fork('regime');
  const noiseRandom = random.fork('noise');
  const shapeRandom = random.fork('shape');
  const bars: Bar[] = [];
  const latent: LatentState[] = [];

  let regime = run.initialRegime ?? drawRegime(stationaryDistribution(transitions), regimeRandom);
  let phase: VolatilePhase | undefined = regime === 'volatile' ? 'compression' : undefined;
  let direction: 1 | -1 = 1;
  let open = spec.initialPrice;
  let logClose = Math.log(open);
  let anchor = logClose;

  for (let i = 0; i < run.scales.length; i++) {
    if (i > 0) {
      const next = drawRegime(transitions[regime], regimeRandom);
      if (next !== regime) {
        regime = next;
        anchor = logClose;
        phase = regime === 'volatile' ? 'compression' : undefined;
      }
    }
    // Drawn every bar whatever the regime, so a regime change never shifts which uniforms the later bars get.
    const breakoutDraw = regimeRandom.next();
    const directionDraw = regimeRandom.next();
    if (phase === 'compression' && breakoutDraw < d.breakoutProbability) {
      phase = 'breakout';
      direction = directionDraw < 0.5 ? 1 : -1;
    }

    const sigma = spec.volatility * run.scales[i]!;
    const move = barMove(regime, phase, direction, d, sigma, logClose - anchor, gaussian(noiseRandom));
    logClose += move.logReturn;
    const close = Math.exp(logClose);
    bars.push(shapeBar(run.startTime + i * DAY_MS, open, close, move.noise, move.logReturn, spec, d, shapeRandom));
    open = close;
    latent.push(latentAfter(regime, phase, direction, d, sigma, logClose - anchor));
  }
  return { bars, latent };
}

/** One bar's log return: drift plus noise in trends and breakouts, AR(1) on the deviation from the anchor in ranges and compressions. */
function barMove(
  regime: Regime,
  phase: VolatilePhase | undefined,
  direction: 1 | -1,
  d: MarketDynamics,
  sigma: number,
  deviation: number,
  z: number,
): { logReturn: number; noise: number } {
  switch (regime) {
    case 'trending-up':
    case 'trending-down': {
      const sign = regime === 'trending-up' ? 1 : -1;
      return { logReturn: sign * d.trendDrift * sigma + d.trendNoise * sigma * z, noise: d.trendNoise * sigma };
    }
    case 'ranging': {
      const noise = d.rangingNoise * sigma;
      return { logReturn: d.rangingReversion * deviation + noise * z - deviation, noise };
    }
    case 'volatile': {
      if (phase === 'breakout') {
        return { logReturn: direction * d.breakoutDrift * sigma + d.breakoutNoise * sigma * z, noise: d.breakoutNoise * sigma };
      }
      const noise = d.compressionNoise * sigma;
      return { logReturn: d.compressionReversion * deviation + noise * z - deviation, noise };
    }
  }
}

function latentAfter(
  regime: Regime,
  phase: VolatilePhase | undefined,
  direction: 1 | -1,
  d: MarketDynamics,
  sigma: number,
  deviation: number,
): LatentState {
  switch (regime) {
    case 'trending-up':
      return { regime, phase, drift: d.trendDrift * sigma, reversion: 1, deviation: 0 };
    case 'trending-down':
      return { regime, phase, drift: -d.trendDrift * sigma, reversion: 1, deviation: 0 };
    case 'ranging':
      return { regime, phase, drift: 0, reversion: d.rangingReversion, deviation };
    case 'volatile':
      return phase === 'breakout'
        ? { regime, phase, drift: direction * d.breakoutDrift * sigma, reversion: 1, deviation: 0 }
        : { regime, phase, drift: 0, reversion: d.compressionReversion, deviation };
  }
}

/** Wicks reach past the body by |N(0,1)| × wick × the bar's noise; volume rises with the size of the move. */
function shapeBar(
  time: number,
  open: number,
  close: number,
  noise: number,
  logReturn: number,
  spec: AssetSpec,
  d: MarketDynamics,
  random: Random,
): Bar {
  const upperWick = Math.abs(gaussian(random)) * d.wick * noise;
  const lowerWick = Math.abs(gaussian(random)) * d.wick * noise;
  const high = Math.max(open, close) * Math.exp(upperWick);
  const low = Math.min(open, close) * Math.exp(-lowerWick);
  const surge = 1 + d.volumeBeta * (Math.abs(logReturn) / spec.volatility);
  const volume = Math.max(1, Math.round(spec.baseVolume * Math.exp(d.volumeNoise * gaussian(random)) * surge));
  return { time, open, high, low, close, volume };
}

function scaleSeries(profile: readonly VolatilityStretch[], length: number): number[] {
  const scales: number[] = [];
  for (const stretch of profile) for (let i = 0; i < stretch.bars && scales.length < length; i++) scales.push(stretch.scale);
  const carry = profile[profile.length - 1]?.scale ?? 1;
  while (scales.length < length) scales.push(carry);
  return scales;
}

function validate(options: MarketOptions, assets: readonly AssetSpec[], length: number, profile: readonly VolatilityStretch[]): void {
  profile.forEach((stretch, i) => {
    if (!Number.isInteger(stretch.bars) || stretch.bars < 1) throw new MarketOptionsError(`volatilityProfile[${i}].bars`, `must be an integer ≥ 1, got ${stretch.bars}`);
    if (!Number.isFinite(stretch.scale) || stretch.scale < 0) throw new MarketOptionsError(`volatilityProfile[${i}].scale`, `must be ≥ 0, got ${stretch.scale}`);
  });
  if (!Number.isInteger(length) || length < 1) throw new MarketOptionsError('length', `must be an integer ≥ 1, got ${length}`);
  if (assets.length === 0) throw new MarketOptionsError('assets', 'must name at least one asset');
  const ids = new Set<string>();
  for (const asset of assets) {
    if (ids.has(asset.id)) throw new MarketOptionsError('assets', `duplicate asset id ${JSON.stringify(asset.id)}`);
    ids.add(asset.id);
    for (const key of ['initialPrice', 'volatility', 'baseVolume'] as const) {
      if (!Number.isFinite(asset[key]) || asset[key] <= 0) {
        throw new MarketOptionsError(`assets.${asset.id}.${key}`, `must be a positive number, got ${asset[key]}`);
      }
    }
  }
  if (options.initialRegime !== undefined && !REGIMES.includes(options.initialRegime)) {
    throw new MarketOptionsError('initialRegime', `must be one of ${REGIMES.join(', ')}, got ${String(options.initialRegime)}`);
  }
}
