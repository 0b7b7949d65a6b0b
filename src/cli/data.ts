import { SwarmbankError } from '../errors.js';
import type { Bar } from '../market/bars.js';
import { loadOhlcvCsv } from '../market/csv.js';
import { DatasetUnavailableError } from '../market/errors.js';
import { loadSp500 } from '../market/sp500.js';

/** `--data`: `sp500` for the S&P 500 daily series of vega-datasets, or the path of an OHLCV CSV file. */
export async function loadBars(data: string): Promise<readonly Bar[]> {
  if (data === 'sp500') return (await loadSp500()).bars;
  try {
    return (await loadOhlcvCsv(data)).bars;
  } catch (error) {
    if (error instanceof SwarmbankError) throw error;
    throw new DatasetUnavailableError(data, `cannot read the file: ${error instanceof Error ? error.message : String(error)}`, error);
  }
}
