import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { barProblem } from '../../src/market/bars.js';
import { loadSp500, sp500CsvPath } from '../../src/market/sp500.js';

describe('S&P 500 daily series from vega-datasets', () => {
  it('loads ~5,100 well-formed bars with strictly increasing dates, 2000 to 2020', async () => {
    const { bars, adjusted } = await loadSp500();
    expect(adjusted).toBe(true);
    expect(bars).toHaveLength(5_105);
    expect(new Date(bars[0]!.time).toISOString().slice(0, 10)).toBe('2000-01-03');
    expect(new Date(bars.at(-1)!.time).toISOString().slice(0, 10)).toBe('2020-04-17');
    expect(bars.every((bar, i) => i === 0 || bar.time > bars[i - 1]!.time)).toBe(true);
    expect(bars.map(barProblem).filter((p) => p !== undefined)).toEqual([]);
  });

  it('reads the file from the installed package, not from a copy in the repository', () => {
    const path = sp500CsvPath();
    expect(path).toMatch(/node_modules[\\/]vega-datasets[\\/]data[\\/]sp500-2000\.csv$/);
    const tracked = execFileSync('git', ['ls-files'], { encoding: 'utf8' });
    expect(tracked).not.toMatch(/sp500[^\n]*\.csv$/im);
  });
});
