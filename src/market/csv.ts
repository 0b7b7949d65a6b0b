import { readFile } from 'node:fs/promises';
import { barProblem, type Bar } from './bars.js';
import { CsvFormatError, type CsvRowProblem } from './errors.js';

export interface OhlcvSeries {
  readonly bars: readonly Bar[];
  /** True when an adjusted-close column was found and OHLC were scaled by adjusted ÷ close. */
  readonly adjusted: boolean;
}

const REQUIRED = ['date', 'open', 'high', 'low', 'close', 'volume'] as const;
type Column = (typeof REQUIRED)[number] | 'adjclose';
const NUMERIC = ['open', 'high', 'low', 'close', 'volume'] as const;
type NumericColumn = (typeof NUMERIC)[number];

/** Header spellings, compared lower-cased with spaces, underscores and hyphens removed. */
const ALIASES: Readonly<Record<string, Column>> = {
  date: 'date',
  open: 'open',
  high: 'high',
  low: 'low',
  close: 'close',
  volume: 'volume',
  adjclose: 'adjclose',
  adjustedclose: 'adjclose',
};

const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;
const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(?:Z|[+-](\d{2}):(\d{2}))$/;
/** The smallest normal double: an adjusted price below it has lost the precision its returns need. */
const MIN_NORMAL = 2 ** -1022;

/**
 * Parses an OHLCV CSV into bars, or refuses it whole. Headers are matched
 * case-insensitively (`Adj Close`, `adjclose`, `adjusted_close` all name the
 * adjusted close); other columns are ignored. Dates are ISO: `YYYY-MM-DD`
 * (read as UTC midnight) or a date-time with an explicit zone, since a
 * zoneless time would shift with the machine's time zone. Blank lines are
 * skipped; line numbers count them, so they match an editor's.
 *
 * When an adjusted close is present, open/high/low/close are multiplied by
 * adjusted ÷ close so returns include dividends and splits; volume is kept as
 * traded. Every row is checked (numbers, field count, calendar dates and
 * clock times, increasing dates, the bar invariant of `barProblem` as written
 * and again once adjusted) and all problems are collected before
 * `CsvFormatError` is thrown, so one run shows everything to fix.
 */
export function parseOhlcvCsv(text: string, source = 'csv'): OhlcvSeries {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const headerLine = lines[0] ?? '';
  if (headerLine.trim() === '') throw new CsvFormatError('CSV_EMPTY', source, [], 'no header line');
  const columns = readHeader(splitRow(headerLine), source);
  const adjusted = columns.adjclose !== undefined;

  const bars: Bar[] = [];
  const problems: CsvRowProblem[] = [];
  let previous: { time: number; line: number } | undefined;
  for (let index = 1; index < lines.length; index++) {
    const raw = lines[index]!;
    if (raw.trim() === '') continue;
    const line = index + 1;
    const row = readRow(splitRow(raw), columns);
    if (typeof row === 'string') {
      problems.push({ line, reason: row });
      continue;
    }
    if (previous !== undefined && row.time <= previous.time) {
      problems.push({ line, reason: `date ${row.date} is not after the date on line ${previous.line}` });
      continue;
    }
    previous = { time: row.time, line };
    const problem = barProblem(row.bar);
    if (problem !== undefined) {
      problems.push({ line, reason: problem });
      continue;
    }
    const bar = adjust(row.bar, row.ratio);
    const adjustedProblem = row.ratio === 1 ? undefined : adjustmentProblem(bar);
    if (adjustedProblem !== undefined) {
      problems.push({ line, reason: `adjusted by adjclose ÷ close = ${row.ratio}: ${adjustedProblem}` });
      continue;
    }
    bars.push(bar);
  }
  if (problems.length > 0) throw new CsvFormatError('CSV_BAD_ROWS', source, problems);
  if (bars.length === 0) throw new CsvFormatError('CSV_EMPTY', source, [], 'no data rows');
  return { bars, adjusted };
}

/** Reads and parses an OHLCV CSV file; see `parseOhlcvCsv`. */
export async function loadOhlcvCsv(path: string): Promise<OhlcvSeries> {
  return parseOhlcvCsv(await readFile(path, 'utf8'), path);
}

type ColumnIndex = Partial<Record<Column, number>> & { readonly width: number };

function readHeader(cells: readonly string[], source: string): ColumnIndex {
  const index: Partial<Record<Column, number>> = {};
  const problems: CsvRowProblem[] = [];
  cells.forEach((cell, i) => {
    const column = ALIASES[cell.toLowerCase().replace(/[\s_-]/g, '')];
    if (column === undefined) return;
    if (index[column] !== undefined) problems.push({ line: 1, reason: `column ${column} appears twice ("${cell}")` });
    index[column] = i;
  });
  const missing = REQUIRED.filter((c) => index[c] === undefined);
  if (missing.length > 0) problems.push({ line: 1, reason: `missing column${missing.length > 1 ? 's' : ''} ${missing.join(', ')}` });
  if (problems.length > 0) {
    throw new CsvFormatError('CSV_HEADER', source, problems, `bad header: ${problems.map((p) => p.reason).join('; ')}`);
  }
  return { ...index, width: cells.length };
}

interface ParsedRow {
  /** As written in the file, so problems quote the file's numbers. */
  readonly bar: Bar;
  /** adjusted close ÷ close; 1 without an adjusted-close column. */
  readonly ratio: number;
  readonly time: number;
  readonly date: string;
}

/** Why the row is bad, or what it holds. */
function readRow(cells: readonly string[], columns: ColumnIndex): string | ParsedRow {
  if (cells.length !== columns.width) return `expected ${columns.width} fields, found ${cells.length}`;
  const field = (column: Column): string => (columns[column] === undefined ? '' : cells[columns[column]] ?? '');

  const date = field('date');
  if (date === '') return 'missing date';
  const time = parseDate(date);
  if (time === undefined) return `date ${JSON.stringify(date)} is not an ISO date`;

  const values = {} as Record<NumericColumn, number>;
  for (const column of NUMERIC) {
    const value = parseNumber(field(column), column);
    if (typeof value === 'string') return value;
    values[column] = value;
  }
  const { open, high, low, close, volume } = values;
  const bar = { time, open, high, low, close, volume };
  if (columns.adjclose === undefined) return { bar, ratio: 1, time, date };
  const adjclose = parseNumber(field('adjclose'), 'adjclose');
  if (typeof adjclose === 'string') return adjclose;
  if (!(adjclose > 0) || !(close > 0)) return `cannot adjust: close ${close}, adjusted close ${adjclose}`;
  return { bar, ratio: adjclose / close, time, date };
}

/** Scaling all four prices by one factor keeps their order exactly: IEEE multiplication is monotonic. */
function adjust(bar: Bar, ratio: number): Bar {
  if (ratio === 1) return bar;
  return { ...bar, open: bar.open * ratio, high: bar.high * ratio, low: bar.low * ratio, close: bar.close * ratio };
}

/**
 * What is wrong with a bar once adjusted: the scaling can overflow to
 * Infinity, or underflow to 0 or below `MIN_NORMAL`.
 */
function adjustmentProblem(bar: Bar): string | undefined {
  const problem = barProblem(bar);
  if (problem !== undefined) return problem;
  for (const column of ['open', 'high', 'low', 'close'] as const) {
    if (bar[column] < MIN_NORMAL) return `${column} ${bar[column]} is below the smallest normal number ${MIN_NORMAL}`;
  }
  return undefined;
}

/** The number in a cell, or why there is none. */
function parseNumber(text: string, column: Column): number | string {
  if (text === '') return `missing ${column}`;
  if (!NUMBER.test(text)) return `${column} ${JSON.stringify(text)} is not a number`;
  return Number(text);
}

function parseDate(text: string): number | undefined {
  const dateOnly = DATE_ONLY.exec(text);
  if (dateOnly !== null) return calendarDay(dateOnly[1]!, dateOnly[2]!, dateOnly[3]!);
  const dateTime = DATE_TIME.exec(text);
  if (dateTime === null) return undefined;
  const [, year, month, day, hour, minute, second = '0', offsetHour = '0', offsetMinute = '0'] = dateTime;
  // Date.parse rolls 2021-02-30T00:00Z over to March and reads T24:00 as the next midnight: only a real date and clock time is read.
  if (calendarDay(year!, month!, day!) === undefined) return undefined;
  if (Number(hour) > 23 || Number(minute) > 59 || Number(second) > 59 || Number(offsetHour) > 23 || Number(offsetMinute) > 59) return undefined;
  const time = Date.parse(text);
  return Number.isNaN(time) ? undefined : time;
}

/** UTC midnight of the day, if it is on the calendar. */
function calendarDay(yearText: string, monthText: string, dayText: string): number | undefined {
  const [year, month, day] = [Number(yearText), Number(monthText), Number(dayText)];
  const time = Date.UTC(year, month - 1, day);
  const back = new Date(time);
  // Date.UTC rolls 2021-02-30 over to March; a real calendar date survives the round trip.
  return back.getUTCFullYear() === year && back.getUTCMonth() === month - 1 && back.getUTCDate() === day ? time : undefined;
}

/** Comma-separated cells, trimmed, with surrounding double quotes removed (no embedded commas in OHLCV files). */
function splitRow(line: string): string[] {
  return line.split(',').map((cell) => {
    const trimmed = cell.trim();
    return trimmed.length >= 2 && trimmed.startsWith('"') && trimmed.endsWith('"') ? trimmed.slice(1, -1).trim() : trimmed;
  });
}
