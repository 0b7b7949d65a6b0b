import { describe, expect, it, vi } from 'vitest';

vi.mock('node:fs', async (importOriginal) => ({ ...(await importOriginal<typeof import('node:fs')>()), existsSync: () => false }));

describe('S&P 500 series without vega-datasets installed', () => {
  it('fails with a typed error that says how to install it', async () => {
    const { sp500CsvPath } = await import('../../src/market/sp500.js');
    expect(() => sp500CsvPath()).toThrow(
      expect.objectContaining({ name: 'DatasetUnavailableError', code: 'DATASET_UNAVAILABLE', dataset: 'sp500' }),
    );
    expect(() => sp500CsvPath()).toThrow(/npm install --save-dev vega-datasets/);
  });
});
