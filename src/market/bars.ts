/**
 * One OHLCV bar, the unit every market source (simulator or CSV) produces and
 * every consumer (features, trading, VIX) reads. `time` is epoch milliseconds
 * (UTC) so simulated and real series sort and window the same way.
 */
export interface Bar {
  readonly time: number;
  readonly open: number;
  readonly high: number;
  readonly low: number;
  readonly close: number;
  readonly volume: number;
}

/**
 * Why a bar is not a well-formed price bar, or undefined when it is. Shared by
 * the CSV loader (which reports it per line) and the simulator tests, so both
 * sources are held to the same invariant:
 * high ≥ max(open, close) ≥ min(open, close) ≥ low > 0 and volume ≥ 0.
 */
export function barProblem(bar: Bar): string | undefined {
  const { open, high, low, close, volume } = bar;
  for (const [name, value] of [['open', open], ['high', high], ['low', low], ['close', close], ['volume', volume]] as const) {
    if (!Number.isFinite(value)) return `${name} is not a finite number`;
  }
  if (high < low) return `high ${high} < low ${low}`;
  if (low <= 0) return `low ${low} is not positive`;
  if (high < Math.max(open, close)) return `high ${high} is below open/close`;
  if (low > Math.min(open, close)) return `low ${low} is above open/close`;
  if (volume < 0) return `volume ${volume} is negative`;
  return undefined;
}
