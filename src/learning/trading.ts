import { SwarmbankError } from '../errors.js';
import type { Bar } from '../market/bars.js';
import type { Position, Prediction } from './learner.js';

/**
 * Trading on predictions, as the continual scenario and the walk-forward
 * evaluation report it.
 *
 * Conventions, shared by the batch function and the online ledger so the two
 * agree to the last bit on everything but the Sharpe ratio:
 *
 * - An exposure is a signed fraction of equity in [−1, 1]: long +1, short −1,
 *   flat 0, or sign × confidence when sized by confidence. Exposure t is taken
 *   at the close of bar t and held to the close of bar t + 1; it is kept at
 *   that fraction of equity bar by bar (the usual returns-based backtest), so
 *   a long held for several bars is exactly buy and hold and no cost is
 *   charged for keeping the fraction.
 * - Returns are simple, not log: a short then earns −r on a bar that moves r,
 *   as a real short does, and equity is the product of (1 + net return).
 * - Costs: changing exposure from a to b at a close costs
 *   costBps / 10 000 × |b − a| of equity at that close, before the bar's
 *   return. Entering or exiting a unit position pays once, a flip pays twice.
 *   Trading starts flat, so the first position pays its entry; the last one is
 *   left open and marked to market, with no exit charged, so buy and hold pays
 *   exactly one entry. A caller that wants to end flat holds a flat position
 *   over the last bar.
 * - Sharpe = mean / sample standard deviation of the net per-bar returns ×
 *   √barsPerYear (risk-free rate 0). It is NaN, like an accuracy with no
 *   decided step, when it is undefined: fewer than two returns, or a standard
 *   deviation that is zero up to rounding (a constant return, always flat).
 *   A number there would be either infinite or invented.
 * - Max drawdown is the largest fall from the running peak of equity, as a
 *   fraction of that peak (0.2 = 20% below the best equity so far); the
 *   starting equity 1 counts as a peak.
 */

export const DEFAULT_BARS_PER_YEAR = 252;

export interface TradingOptions {
  /** Cost of each unit of exposure changed, in basis points of equity. Default 0. */
  readonly costBps?: number;
  /** Bars in a year, for annualizing the Sharpe ratio. Default 252 (trading days). */
  readonly barsPerYear?: number;
}

/** The figures the batch function and the ledger both report. */
export interface TradingSummary {
  /** Bars held (one per exposure). */
  readonly steps: number;
  /** Equity after the last bar, starting from 1. */
  readonly equity: number;
  /** equity − 1. */
  readonly totalReturn: number;
  /** Annualized; NaN when undefined (see the module comment). */
  readonly sharpe: number;
  /** Fraction of the running peak, in [0, 1] while equity stays positive. */
  readonly maxDrawdown: number;
  /** Closes at which the exposure changed; a flip is one trade (charged for two units). */
  readonly trades: number;
  /** Sum of |exposure change|: what the costs were charged on. */
  readonly turnover: number;
  /**
   * Of the bars held with a non-zero exposure on which the price moved, the
   * fraction where the exposure had the sign of the move, before costs — the
   * trading counterpart of accuracy. NaN when there is none.
   */
  readonly hitRate: number;
}

export interface TradingReport extends TradingSummary {
  /** Net return of each bar held. */
  readonly returns: readonly number[];
  /** Equity at each close, equityCurve[0] = 1 before anything is held; one longer than `returns`. */
  readonly equityCurve: readonly number[];
}

export class TradingInputError extends SwarmbankError {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super('TRADING_INPUT', `trading input ${field}: ${message}`);
  }
}

export type Sizing = 'unit' | 'confidence';

/** +1, −1 or 0. */
export function positionExposure(position: Position): number {
  return position === 'long' ? 1 : position === 'short' ? -1 : 0;
}

/**
 * The exposure a prediction asks for. `unit` (default) trades the position
 * at full size; `confidence` scales it by the prediction's confidence
 * (clamped to [0, 1]), so weak calls risk less and cost less to change.
 */
export function predictionExposure(prediction: Prediction, sizing: Sizing = 'unit'): number {
  const side = positionExposure(prediction.position);
  if (sizing === 'unit') return side;
  if (sizing === 'confidence') return side * Math.min(1, Math.max(0, prediction.confidence));
  throw new TradingInputError('sizing', `must be unit or confidence, got ${String(sizing)}`);
}

export function exposuresFromPredictions(predictions: readonly Prediction[], sizing: Sizing = 'unit'): number[] {
  return predictions.map((p) => predictionExposure(p, sizing));
}

/**
 * Per-bar exposures for decisions held `horizon` bars: decision k, taken at
 * the close of bar k·horizon, is held to the close of bar (k + 1)·horizon. A
 * series of n bars therefore takes (n − 1) / horizon decisions.
 */
export function holdForHorizon(decisions: readonly number[], horizon: number): number[] {
  if (!Number.isInteger(horizon) || horizon < 1) throw new TradingInputError('horizon', `must be an integer ≥ 1, got ${horizon}`);
  return decisions.flatMap((exposure) => new Array<number>(horizon).fill(exposure));
}

/**
 * Trades `exposures` over `bars`: exposures[t] is held from the close of
 * bars[t] to the close of bars[t + 1], so there must be exactly one fewer
 * exposure than bars. Pure; see the module comment for the conventions.
 */
export function simulateTrading(bars: readonly Bar[], exposures: readonly number[], options: TradingOptions = {}): TradingReport {
  const { cost, barsPerYear } = resolveOptions(options);
  if (bars.length === 0 || exposures.length !== bars.length - 1) {
    throw new TradingInputError('exposures', `${exposures.length} exposures for ${bars.length} bars; need exactly one per bar after the first`);
  }
  const closes = bars.map((bar, i) => checkedClose(bar, `bars[${i}]`));
  const returns: number[] = [];
  const equityCurve = [1];
  let equity = 1;
  let peak = 1;
  let maxDrawdown = 0;
  let previous = 0;
  let trades = 0;
  let turnover = 0;
  let decided = 0;
  let hits = 0;
  for (let t = 0; t < exposures.length; t++) {
    const exposure = checkedExposure(exposures[t]!, `exposures[${t}]`);
    const move = closes[t + 1]! / closes[t]! - 1;
    const change = Math.abs(exposure - previous);
    if (change > 0) trades++;
    turnover += change;
    if (exposure !== 0 && move !== 0) {
      decided++;
      if (Math.sign(exposure) === Math.sign(move)) hits++;
    }
    const net = (1 - cost * change) * (1 + exposure * move) - 1;
    equity *= 1 + net;
    peak = Math.max(peak, equity);
    maxDrawdown = Math.max(maxDrawdown, (peak - equity) / peak);
    returns.push(net);
    equityCurve.push(equity);
    previous = exposure;
  }
  return {
    steps: returns.length,
    equity,
    totalReturn: equity - 1,
    sharpe: sharpeRatio(returns, barsPerYear),
    maxDrawdown,
    trades,
    turnover,
    hitRate: decided === 0 ? Number.NaN : hits / decided,
    returns,
    equityCurve,
  };
}

/** Always long over every bar under the same cost model: the baseline a strategy has to beat. */
export function buyAndHold(bars: readonly Bar[], options: TradingOptions = {}): TradingReport {
  return simulateTrading(bars, new Array<number>(Math.max(0, bars.length - 1)).fill(1), options);
}

/** Annualized Sharpe of per-bar returns; NaN when undefined (see the module comment). */
export function sharpeRatio(returns: readonly number[], barsPerYear = DEFAULT_BARS_PER_YEAR): number {
  const n = returns.length;
  if (n < 2) return Number.NaN;
  let sum = 0;
  for (const r of returns) sum += r;
  const mean = sum / n;
  let squares = 0;
  for (const r of returns) squares += (r - mean) ** 2;
  return annualize(mean, Math.sqrt(squares / (n - 1)), barsPerYear);
}

/**
 * The same figures as `simulateTrading`, one bar at a time and in constant
 * memory, for trading while learning: a continual run holds one ledger for all
 * its trading days and reads `summary()` whenever it reports. The exposure
 * held carries over between calls, so only real changes are charged. The
 * standard deviation is kept by Welford's update, so the Sharpe ratio matches
 * the batch one to rounding, not bit for bit.
 */
export class TradingLedger {
  private readonly cost: number;
  private readonly barsPerYear: number;
  private steps = 0;
  private equity = 1;
  private peak = 1;
  private maxDrawdown = 0;
  private previous = 0;
  private trades = 0;
  private turnover = 0;
  private decided = 0;
  private hits = 0;
  private mean = 0;
  private squares = 0;

  constructor(options: TradingOptions = {}) {
    ({ cost: this.cost, barsPerYear: this.barsPerYear } = resolveOptions(options));
  }

  /** The exposure held since the last step; 0 before the first. */
  get exposure(): number {
    return this.previous;
  }

  /**
   * Holds `exposure` from the close of `from` to the close of `to` and returns
   * the bar's net return. Input is checked before anything changes, so a
   * refused step leaves the ledger as it was.
   */
  step(exposure: number, from: Bar, to: Bar): number {
    const checked = checkedExposure(exposure, 'exposure');
    const move = checkedClose(to, 'to') / checkedClose(from, 'from') - 1;
    const change = Math.abs(checked - this.previous);
    if (change > 0) this.trades++;
    this.turnover += change;
    if (checked !== 0 && move !== 0) {
      this.decided++;
      if (Math.sign(checked) === Math.sign(move)) this.hits++;
    }
    const net = (1 - this.cost * change) * (1 + checked * move) - 1;
    this.equity *= 1 + net;
    this.peak = Math.max(this.peak, this.equity);
    this.maxDrawdown = Math.max(this.maxDrawdown, (this.peak - this.equity) / this.peak);
    this.steps++;
    const delta = net - this.mean;
    this.mean += delta / this.steps;
    this.squares += delta * (net - this.mean);
    this.previous = checked;
    return net;
  }

  summary(): TradingSummary {
    return {
      steps: this.steps,
      equity: this.equity,
      totalReturn: this.equity - 1,
      sharpe: this.steps < 2 ? Number.NaN : annualize(this.mean, Math.sqrt(this.squares / (this.steps - 1)), this.barsPerYear),
      maxDrawdown: this.maxDrawdown,
      trades: this.trades,
      turnover: this.turnover,
      hitRate: this.decided === 0 ? Number.NaN : this.hits / this.decided,
    };
  }
}

/**
 * A standard deviation this small next to the mean is rounding noise on a
 * constant series: the closes of a steady 1% rise do not give returns equal
 * to the last bit, and dividing by that noise would report a Sharpe of ~1e15.
 */
const RELATIVE_ZERO_STD = 1e-9;

function annualize(mean: number, std: number, barsPerYear: number): number {
  if (std === 0 || std <= RELATIVE_ZERO_STD * Math.abs(mean)) return Number.NaN;
  return (mean / std) * Math.sqrt(barsPerYear);
}

function resolveOptions(options: TradingOptions): { cost: number; barsPerYear: number } {
  const costBps = options.costBps ?? 0;
  if (!(Number.isFinite(costBps) && costBps >= 0 && costBps <= 10_000)) {
    throw new TradingInputError('costBps', `must be a finite number in [0, 10000], got ${costBps}`);
  }
  const barsPerYear = options.barsPerYear ?? DEFAULT_BARS_PER_YEAR;
  if (!(Number.isFinite(barsPerYear) && barsPerYear > 0)) throw new TradingInputError('barsPerYear', `must be a finite number > 0, got ${barsPerYear}`);
  return { cost: costBps / 10_000, barsPerYear };
}

function checkedClose(bar: Bar, field: string): number {
  const close = bar.close;
  if (!(Number.isFinite(close) && close > 0)) throw new TradingInputError(field, `close must be a finite price > 0, got ${close}`);
  return close;
}

function checkedExposure(exposure: number, field: string): number {
  if (!(Number.isFinite(exposure) && exposure >= -1 && exposure <= 1)) throw new TradingInputError(field, `must be a finite number in [−1, 1], got ${exposure}`);
  return exposure;
}
