import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadOhlcvCsv, parseOhlcvCsv } from '../../src/market/csv.js';
import { CsvFormatError } from '../../src/market/errors.js';

const fixture = (name: string) => fileURLToPath(new URL(`fixtures/${name}`, import.meta.url));
const HEADER = 'date,open,high,low,close,volume';
const GOOD = '2021-01-04,10,11,9,10.5,100';

function refusal(text: string): CsvFormatError {
  try {
    parseOhlcvCsv(text, 'test.csv');
  } catch (error) {
    if (error instanceof CsvFormatError) return error;
    throw error;
  }
  throw new Error('expected the CSV to be refused');
}

describe('parseOhlcvCsv', () => {
  it('loads the fixture, scaling OHLC by adjusted ÷ close and skipping blank lines', async () => {
    const { bars, adjusted } = await loadOhlcvCsv(fixture('ohlcv-sample.csv'));
    expect(adjusted).toBe(true);
    expect(bars).toHaveLength(6);
    expect(bars[0]).toEqual({ time: Date.UTC(2021, 2, 1), open: 25, high: 25.6, low: 24.9, close: 25.5, volume: 120_000 });
    expect(bars[5]).toEqual({ time: Date.UTC(2021, 2, 8), open: 50.5, high: 50.5, low: 49, close: 49.2, volume: 156_000 });
    expect(bars.every((bar, i) => i === 0 || bar.time > bars[i - 1]!.time)).toBe(true);
  });

  it('matches header names case-insensitively, in any order, ignoring extra columns', () => {
    const { bars, adjusted } = parseOhlcvCsv('Volume,CLOSE,Low,High,Open,Symbol,Date\n100,10.5,9,11,10,XYZ,2021-01-04\n');
    expect(adjusted).toBe(false);
    expect(bars).toEqual([{ time: Date.UTC(2021, 0, 4), open: 10, high: 11, low: 9, close: 10.5, volume: 100 }]);
  });

  it.each(['Adj Close', 'adjclose', 'adjusted_close', 'ADJ_CLOSE'])('uses an adjusted-close column spelled %s', (name) => {
    const { bars, adjusted } = parseOhlcvCsv(`${HEADER},${name}\n${GOOD},5.25\n`);
    expect(adjusted).toBe(true);
    expect(bars[0]).toMatchObject({ open: 5, high: 5.5, low: 4.5, close: 5.25, volume: 100 });
  });

  it('reads CRLF line endings, a byte-order mark and quoted cells', () => {
    const { bars } = parseOhlcvCsv(`\uFEFF"Date","Open","High","Low","Close","Volume"\r\n"2021-01-04","10","11","9","10.5","100"\r\n`);
    expect(bars).toHaveLength(1);
  });

  it.each([
    ['an unparseable number', '2021-01-05,10,11,9,abc,100', 'close "abc" is not a number'],
    ['a number with trailing junk', '2021-01-05,10,11,9,10.5x,100', 'close "10.5x" is not a number'],
    ['an empty field', '2021-01-05,10,,9,10.5,100', 'missing high'],
    ['a missing field', '2021-01-05,10,11,9,10.5', 'expected 6 fields, found 5'],
    ['an extra field', '2021-01-05,10,11,9,10.5,100,7', 'expected 6 fields, found 7'],
    ['an unparseable date', '05/01/2021,10,11,9,10.5,100', 'date "05/01/2021" is not an ISO date'],
    ['an impossible date', '2021-02-30,10,11,9,10.5,100', 'date "2021-02-30" is not an ISO date'],
    ['a date-time without a zone', '2021-01-05T10:00,10,11,9,10.5,100', 'is not an ISO date'],
    ['a date-time on an impossible date', '2021-02-30T00:00Z,10,11,9,10.5,100', 'date "2021-02-30T00:00Z" is not an ISO date'],
    ['a date-time at hour 24', '2021-01-05T24:00Z,10,11,9,10.5,100', 'date "2021-01-05T24:00Z" is not an ISO date'],
    ['a date-time at minute 60', '2021-01-05T10:60:00+01:00,10,11,9,10.5,100', 'is not an ISO date'],
    ['a date-time with an offset of 24 hours', '2021-01-05T10:00+24:00,10,11,9,10.5,100', 'is not an ISO date'],
    ['a repeated date', '2021-01-04,10,11,9,10.5,100', 'date 2021-01-04 is not after the date on line 2'],
    ['a date going back', '2021-01-01,10,11,9,10.5,100', 'date 2021-01-01 is not after the date on line 2'],
    ['high below low', '2021-01-05,10,9,11,10.5,100', 'high 9 < low 11'],
    ['high below the close', '2021-01-05,10,10.2,9,10.5,100', 'high 10.2 is below open/close'],
    ['low above the open', '2021-01-05,10,11,10.2,10.5,100', 'low 10.2 is above open/close'],
    ['a zero price', '2021-01-05,0,11,0,10.5,100', 'low 0 is not positive'],
    ['a negative volume', '2021-01-05,10,11,9,10.5,-1', 'volume -1 is negative'],
  ])('refuses a file with %s, naming the line', (_kind, row, reason) => {
    const error = refusal(`${HEADER}\n${GOOD}\n${row}\n2021-01-06,10,11,9,10.5,100\n`);
    expect(error.code).toBe('CSV_BAD_ROWS');
    expect(error.problems).toHaveLength(1);
    expect(error.problems[0]!.line).toBe(3);
    expect(error.problems[0]!.reason).toContain(reason);
    expect(error.message).toContain('line 3:');
  });

  it('reads a date-time with a zone as the instant it names', () => {
    const { bars } = parseOhlcvCsv(`${HEADER}\n2021-01-05T00:30Z,10,11,9,10.5,100\n2021-01-04T23:30:15.5-01:00,10,11,9,10.5,100\n`);
    expect(bars.map((bar) => bar.time)).toEqual([Date.UTC(2021, 0, 5, 0, 30), Date.UTC(2021, 0, 5, 0, 30, 15, 500)]);
  });

  it.each([
    ['overflows to Infinity', '2021-01-05,1e-300,1e-300,1e-300,1e-300,100,1e300', 'adjusted by adjclose ÷ close = Infinity: open is not a finite number'],
    ['overflows past the largest double though the adjusted close does not', '2021-01-05,1e308,1e308,1e300,1e300,100,1e301', 'adjusted by adjclose ÷ close = 10: open is not a finite number'],
    ['underflows to a subnormal price', '2021-01-05,100,100,100,100,100,1e-320', 'open 9.88e-321 is below the smallest normal number'],
    ['underflows to zero', '2021-01-05,1e300,1e300,1e300,1e300,100,1e-300', 'low 0 is not positive'],
  ])('refuses a row whose adjusted bar %s, naming the line and the column', (_kind, row, reason) => {
    const error = refusal(`${HEADER},adjclose\n${GOOD},10.5\n${row}\n`);
    expect(error.code).toBe('CSV_BAD_ROWS');
    expect(error.problems).toEqual([{ line: 3, reason: expect.stringContaining(reason) }]);
  });

  it('reports every bad row of a file by its line number, counting blank lines', async () => {
    const error = await loadOhlcvCsv(fixture('ohlcv-bad-rows.csv')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CsvFormatError);
    expect((error as CsvFormatError).problems).toEqual([
      { line: 3, reason: 'high 10.2 < low 10.8' },
      { line: 4, reason: 'close "abc" is not a number' },
      { line: 5, reason: 'date 2021-01-05 is not after the date on line 3' },
      { line: 6, reason: 'expected 6 fields, found 4' },
    ]);
    const withBlank = refusal(`${HEADER}\n${GOOD}\n\n\n2021-01-05,10,11,9,zz,100\n`);
    expect(withBlank.problems.map((p) => p.line)).toEqual([5]);
  });

  it('lists the first ten bad rows in the message and counts the rest', () => {
    const rows = Array.from({ length: 25 }, (_, i) => `2021-02-${String(i + 1).padStart(2, '0')},10,11,9,bad,100`);
    const error = refusal([HEADER, ...rows].join('\n'));
    expect(error.problems).toHaveLength(25);
    expect(error.message).toContain('25 bad rows');
    expect(error.message).toContain('line 11:');
    expect(error.message).not.toContain('line 12:');
    expect(error.message).toContain('and 15 more');
  });

  it('refuses a header that lacks a required column or names one twice', () => {
    const missing = refusal('date,open,high,close\n2021-01-04,10,11,10.5\n');
    expect(missing.code).toBe('CSV_HEADER');
    expect(missing.message).toContain('missing columns low, volume');
    const twice = refusal(`${HEADER},Close\n${GOOD},10.5\n`);
    expect(twice.code).toBe('CSV_HEADER');
    expect(twice.message).toContain('close appears twice');
  });

  it('refuses an empty file and a header without rows', () => {
    expect(refusal('').code).toBe('CSV_EMPTY');
    expect(refusal(`${HEADER}\n\n`).code).toBe('CSV_EMPTY');
  });
});
