import { createHash } from 'node:crypto';
import { ATR, RSI, SMA, getStandardDeviation } from 'trading-signals';
import { SwarmbankError } from '../errors.js';
import type { Bar } from '../market/bars.js';

/**
 * The parameters of the feature vector. Everything that changes a feature's
 * value is here, so that `featureSpaceId` (a hash of all of it) tells two
 * incompatible spaces apart.
 */
export interface FeatureDefinition {
  /** Lags k of the log returns ln(C_i / C_{i−k}). */
  readonly returnLags: readonly number[];
  /** Bars of log returns behind the realized volatility that scales the returns. */
  readonly volatilityWindow: number;
  /** Longer window the realized volatility is compared with. */
  readonly longVolatilityWindow: number;
  /** Moving average (and standard deviation) window of the close z-score. */
  readonly averageWindow: number;
  readonly rsiPeriod: number;
  readonly atrShortPeriod: number;
  readonly atrLongPeriod: number;
  /** Bars of the high–low range read as compression. */
  readonly rangeWindow: number;
  readonly volumeWindow: number;
  /** Every feature is clipped to [−clip, clip]. */
  readonly clip: number;
}

export const FEATURE_VERSION = 1;

export const DEFAULT_FEATURES: FeatureDefinition = {
  returnLags: [1, 2, 3, 5, 10],
  volatilityWindow: 10,
  longVolatilityWindow: 40,
  averageWindow: 20,
  rsiPeriod: 14,
  atrShortPeriod: 5,
  atrLongPeriod: 20,
  rangeWindow: 10,
  volumeWindow: 20,
  clip: 3,
};

/** A validated definition with what users of the vectors need: names, size, warm-up and id. */
export interface FeatureSpace {
  readonly definition: FeatureDefinition;
  /** One name per vector component, in order. */
  readonly names: readonly string[];
  readonly dimensions: number;
  /** Bars a vector is computed from: bar i's vector depends on bars i − lookback + 1 … i only. */
  readonly lookback: number;
  readonly id: string;
}

export class FeatureDefinitionError extends SwarmbankError {
  constructor(
    readonly option: string,
    message: string,
  ) {
    super('FEATURE_DEFINITION', `feature option ${option}: ${message}`);
  }
}

/**
 * Builds a feature space. Normalization, so that every component is
 * dimensionless and of order 1 whatever the asset's price or volatility:
 *
 * | name               | value                                                       |
 * |--------------------|-------------------------------------------------------------|
 * | `return_k`         | ln(C_i / C_{i−k}) ÷ (σ √k), σ = realized volatility          |
 * | `volatility_ratio` | ln(σ ÷ σ over `longVolatilityWindow`)                        |
 * | `close_zscore`     | (C_i − SMA) ÷ standard deviation of the closes               |
 * | `rsi`              | (RSI − 50) ÷ 50, in [−1, 1]                                  |
 * | `atr_ratio`        | ln(ATR short ÷ ATR long)                                     |
 * | `range_compression`| ln(range of `rangeWindow` bars ÷ (ATR long × √rangeWindow))  |
 * | `volume_zscore`    | z-score of ln(volume) over `volumeWindow`                    |
 * | `anchor`           | 1                                                           |
 *
 * σ is the standard deviation of the last `volatilityWindow` log returns. All
 * components but the anchor are clipped to ±`clip`. The constant anchor keeps
 * a quiet market from being a zero vector (whose cosine is undefined) and
 * makes cosine similarity depend on a vector's size as well as its direction.
 * RSI and ATR use simple-average smoothing rather than Wilder's so that their
 * memory is finite: a vector depends on the last `lookback` bars exactly,
 * whether the series is streamed from its first bar or from a later one.
 */
export function featureSpace(overrides: Partial<FeatureDefinition> = {}): FeatureSpace {
  const definition: FeatureDefinition = { ...DEFAULT_FEATURES, ...overrides };
  validate(definition);
  const names = [
    ...definition.returnLags.map((k) => `return_${k}`),
    'volatility_ratio',
    'close_zscore',
    'rsi',
    'atr_ratio',
    'range_compression',
    'volume_zscore',
    'anchor',
  ];
  const d = definition;
  const lookback = Math.max(
    Math.max(...d.returnLags) + 1,
    d.volatilityWindow + 1,
    d.longVolatilityWindow + 1,
    d.averageWindow,
    d.rsiPeriod + 1,
    d.atrShortPeriod + 1,
    d.atrLongPeriod + 1,
    d.rangeWindow,
    d.volumeWindow,
  );
  return { definition, names, dimensions: names.length, lookback, id: featureSpaceId(definition) };
}

/** A hash of the canonical description of a definition: same definition, same id; any change, a new id. */
export function featureSpaceId(definition: FeatureDefinition): string {
  const canonical = JSON.stringify({
    version: FEATURE_VERSION,
    returnLags: [...definition.returnLags],
    volatilityWindow: definition.volatilityWindow,
    longVolatilityWindow: definition.longVolatilityWindow,
    averageWindow: definition.averageWindow,
    rsi: { period: definition.rsiPeriod, smoothing: 'sma' },
    atr: { short: definition.atrShortPeriod, long: definition.atrLongPeriod, smoothing: 'sma' },
    rangeWindow: definition.rangeWindow,
    volume: { window: definition.volumeWindow, transform: 'log' },
    clip: definition.clip,
    anchor: 1,
  });
  return `ohlcv-v${FEATURE_VERSION}-${createHash('sha256').update(canonical).digest('hex').slice(0, 16)}`;
}

/**
 * Computes feature vectors bar by bar from a stream of bars. `push` only ever
 * sees the bars given so far, so a vector cannot depend on a later bar.
 */
export class FeatureStream {
  private readonly bars: Bar[] = [];
  private readonly rsi: RSI;
  private readonly atrShort: ATR;
  private readonly atrLong: ATR;

  constructor(readonly space: FeatureSpace) {
    const d = space.definition;
    this.rsi = new RSI(d.rsiPeriod, SMA);
    this.atrShort = new ATR(d.atrShortPeriod, SMA);
    this.atrLong = new ATR(d.atrLongPeriod, SMA);
  }

  /** The vector of the bar just pushed, or undefined during the warm-up. */
  push(bar: Bar): Float32Array | undefined {
    this.bars.push(bar);
    if (this.bars.length > this.space.lookback) this.bars.shift();
    const rsi = this.rsi.add(bar.close);
    const atrShort = this.atrShort.add(bar);
    const atrLong = this.atrLong.add(bar);
    if (this.bars.length < this.space.lookback || rsi === null || atrShort === null || atrLong === null) return undefined;
    return this.vector(rsi, atrShort, atrLong);
  }

  private vector(rsi: number, atrShort: number, atrLong: number): Float32Array {
    const d = this.space.definition;
    const bars = this.bars;
    const last = bars.length - 1;
    const close = (back: number): number => bars[last - back]!.close;
    const logReturns = (window: number): number[] =>
      Array.from({ length: window }, (_, j) => Math.log(close(j) / close(j + 1)));
    const sigma = getStandardDeviation(logReturns(d.volatilityWindow));
    const longSigma = getStandardDeviation(logReturns(d.longVolatilityWindow));

    const out = new Float32Array(this.space.dimensions);
    let n = 0;
    for (const k of d.returnLags) out[n++] = ratio(Math.log(close(0) / close(k)), sigma * Math.sqrt(k));
    out[n++] = logRatio(sigma, longSigma);
    out[n++] = zScore(bars.slice(-d.averageWindow).map((b) => b.close));
    out[n++] = (rsi - 50) / 50;
    out[n++] = logRatio(atrShort, atrLong);
    const recent = bars.slice(-d.rangeWindow);
    const range = Math.max(...recent.map((b) => b.high)) - Math.min(...recent.map((b) => b.low));
    out[n++] = logRatio(range, atrLong * Math.sqrt(d.rangeWindow));
    out[n++] = zScore(bars.slice(-d.volumeWindow).map((b) => Math.log(Math.max(b.volume, 1))));
    for (let j = 0; j < n; j++) out[j] = Math.max(-d.clip, Math.min(d.clip, out[j]!));
    out[n] = 1;
    return out;
  }
}

/** The vector of every bar of a series (undefined during the warm-up), streamed in order. */
export function computeFeatures(bars: readonly Bar[], space: FeatureSpace): (Float32Array | undefined)[] {
  const stream = new FeatureStream(space);
  return bars.map((bar) => stream.push(bar));
}

export type MarketCondition = 'trending' | 'ranging' | 'volatile';

/** Short-term volatility at least this multiple of the long-term one reads as volatile. */
const VOLATILE_RATIO = Math.log(1.5);
/** A move over the longest lag of at least this many σ√k reads as a trend. */
const TREND_STRENGTH = 1.5;

/**
 * The market condition a vector shows, read from the features alone (never
 * from the simulator's latent state): volatile when short-term volatility or
 * ATR runs 1.5× the long-term one, trending when the return over the longest
 * lag is 1.5 σ√k or more, ranging otherwise.
 */
export function marketCondition(vector: ArrayLike<number>, space: FeatureSpace): MarketCondition {
  const at = (name: string): number => vector[space.names.indexOf(name)] ?? 0;
  if (at('volatility_ratio') >= VOLATILE_RATIO || at('atr_ratio') >= VOLATILE_RATIO) return 'volatile';
  const longest = Math.max(...space.definition.returnLags);
  if (Math.abs(at(`return_${longest}`)) >= TREND_STRENGTH) return 'trending';
  return 'ranging';
}

/** A flat window has no spread; its values sit on their mean, so the z-score is 0. */
function zScore(values: number[]): number {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const sd = getStandardDeviation(values, mean);
  return sd > 0 ? (values[values.length - 1]! - mean) / sd : 0;
}

function ratio(value: number, scale: number): number {
  return scale > 0 ? value / scale : 0;
}

function logRatio(value: number, reference: number): number {
  return value > 0 && reference > 0 ? Math.log(value / reference) : 0;
}

function validate(d: FeatureDefinition): void {
  if (!Array.isArray(d.returnLags) || d.returnLags.length === 0) throw new FeatureDefinitionError('returnLags', 'must list at least one lag');
  d.returnLags.forEach((lag, i) => positiveInteger(`returnLags[${i}]`, lag, 1));
  if (new Set(d.returnLags).size !== d.returnLags.length) throw new FeatureDefinitionError('returnLags', 'must not repeat a lag');
  for (const key of ['volatilityWindow', 'longVolatilityWindow', 'averageWindow', 'rsiPeriod', 'atrShortPeriod', 'atrLongPeriod', 'rangeWindow', 'volumeWindow'] as const) {
    positiveInteger(key, d[key], 2);
  }
  if (!Number.isFinite(d.clip) || d.clip <= 0) throw new FeatureDefinitionError('clip', `must be a positive number, got ${d.clip}`);
}

function positiveInteger(option: string, value: number, min: number): void {
  if (!Number.isInteger(value) || value < min) throw new FeatureDefinitionError(option, `must be an integer ≥ ${min}, got ${value}`);
}
