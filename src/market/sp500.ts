import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { loadOhlcvCsv, type OhlcvSeries } from './csv.js';
import { DatasetUnavailableError } from './errors.js';

const PACKAGE = 'vega-datasets';
const FILE = join('data', 'sp500-2000.csv');

/**
 * Where the S&P 500 daily series 2000–2020 lives: the `vega-datasets` npm
 * package (a devDependency), never a copy in this repository. The package's
 * `exports` hide both package.json and data/, so `require.resolve` cannot
 * name the file; the search walks the same node_modules directories Node
 * would for the package.
 */
export function sp500CsvPath(): string {
  const require = createRequire(import.meta.url);
  const roots = require.resolve.paths(PACKAGE) ?? [];
  for (const root of roots) {
    const candidate = join(root, PACKAGE, FILE);
    if (existsSync(candidate)) return candidate;
  }
  throw new DatasetUnavailableError('sp500', `${PACKAGE}/${FILE} not found; install it with \`npm install --save-dev ${PACKAGE}\``);
}

/** The S&P 500 daily bars 2000-01-03 to 2020-04-17, adjusted close applied (see `parseOhlcvCsv`). */
export async function loadSp500(): Promise<OhlcvSeries> {
  return loadOhlcvCsv(sp500CsvPath());
}
