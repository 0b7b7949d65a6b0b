import { SwarmbankError } from '../errors.js';

/** A simulator option is out of range; `option` names it so a config error points at the key. */
export class MarketOptionsError extends SwarmbankError {
  constructor(
    readonly option: string,
    message: string,
  ) {
    super('MARKET_OPTIONS', `market option ${option}: ${message}`);
  }
}

export interface CsvRowProblem {
  /** 1-based line in the file; the header is line 1. */
  readonly line: number;
  readonly reason: string;
}

export type CsvFormatErrorCode = 'CSV_HEADER' | 'CSV_BAD_ROWS' | 'CSV_EMPTY';

/** How many bad rows the message spells out; `problems` always holds them all. */
const REPORTED_ROWS = 10;

/**
 * An OHLCV CSV was refused. The loader never returns a partial series: a
 * silently skipped row would shift every window and label after it.
 */
export class CsvFormatError extends SwarmbankError {
  override readonly code: CsvFormatErrorCode;

  constructor(
    code: CsvFormatErrorCode,
    readonly source: string,
    readonly problems: readonly CsvRowProblem[],
    detail?: string,
  ) {
    super(code, `${source}: ${detail ?? describeProblems(problems)}`);
    this.code = code;
  }
}

function describeProblems(problems: readonly CsvRowProblem[]): string {
  const shown = problems.slice(0, REPORTED_ROWS).map((p) => `line ${p.line}: ${p.reason}`);
  const more = problems.length > REPORTED_ROWS ? `; and ${problems.length - REPORTED_ROWS} more` : '';
  return `${problems.length} bad row${problems.length === 1 ? '' : 's'} (${shown.join('; ')}${more})`;
}

/** A bundled data set cannot be found, typically because an optional package is not installed. */
export class DatasetUnavailableError extends SwarmbankError {
  constructor(
    readonly dataset: string,
    message: string,
    cause?: unknown,
  ) {
    super('DATASET_UNAVAILABLE', `${dataset}: ${message}`, { cause });
  }
}
