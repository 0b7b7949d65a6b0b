import { describe, expect, it } from 'vitest';
import { parseScenarioConfig, ScenarioConfigError } from '../../../src/learning/scenarios/config.js';
import { runScenario } from '../../../src/learning/scenarios/run.js';

describe('scenario configs', () => {
  it('accept the reference configs as written and fill in the rest', () => {
    expect(parseScenarioConfig('cold-start', { learningRate: 0.02, convergenceTarget: 0.7, warmupEpisodes: 100 })).toMatchObject({
      learningRate: 0.02,
      convergenceTarget: 0.7,
      warmupEpisodes: 100,
      episodeLength: 64,
      convergenceWindow: 5,
    });
    expect(parseScenarioConfig('warm-start', { learningRate: 0.01, preloadPatterns: ['bullish_reversal', 'support_level'], convergenceTarget: 0.7, warmupEpisodes: 50 }).preloadPatterns).toEqual([
      'bullish_reversal',
      'support_level',
    ]);
    expect(parseScenarioConfig('transfer', { sourceAgent: 'experienced-agent', targetAgent: 'new-agent', transferMethod: 'selective', continueTraining: 30 }).transferMethod).toBe('selective');
    expect(parseScenarioConfig('continual', { learningRate: 0.005, onlineLearning: true, tradingPeriod: 30, tradesPerDay: 10 }).tradesPerDay).toBe(10);
    expect(parseScenarioConfig('forgetting', { distillationInterval: 100, memoryConsolidation: true, retentionTarget: 0.8 }).taskB).toBe('mean-reversion');
  });

  it('default to the reference configs when none is given', () => {
    expect(parseScenarioConfig('cold-start', undefined)).toMatchObject({ learningRate: 0.02, convergenceTarget: 0.7, warmupEpisodes: 100 });
    expect(parseScenarioConfig('continual', {})).toMatchObject({ learningRate: 0.005, onlineLearning: true, tradingPeriod: 30, tradesPerDay: 10 });
  });

  it('refuse an unknown key, naming it and listing the known ones', () => {
    const error = catchError(() => parseScenarioConfig('cold-start', { learningRate: 0.02, warmupEpisodez: 10 }));
    expect(error).toBeInstanceOf(ScenarioConfigError);
    expect(error).toMatchObject({ code: 'SCENARIO_CONFIG', key: 'warmupEpisodez' });
    expect(error.message).toContain('known keys: learningRate');
  });

  it('refuse a value out of range or of the wrong type, naming the key', () => {
    expect(catchError(() => parseScenarioConfig('cold-start', { learningRate: 0 }))).toMatchObject({ key: 'learningRate' });
    expect(catchError(() => parseScenarioConfig('transfer', { transferMethod: 'partial' }))).toMatchObject({ key: 'transferMethod' });
    expect(catchError(() => parseScenarioConfig('warm-start', { preloadPatterns: ['head_and_shoulders'] }))).toMatchObject({ key: 'preloadPatterns.0' });
    expect(catchError(() => parseScenarioConfig('continual', { tradingPeriod: 2.5 }))).toMatchObject({ key: 'tradingPeriod' });
    expect(catchError(() => parseScenarioConfig('forgetting', 'fast'))).toMatchObject({ key: '' });
  });

  it('refuse an unknown scenario before running anything', async () => {
    await expect(runScenario('hot-start' as 'cold-start')).rejects.toThrow(/unknown scenario; expected one of cold-start, warm-start/);
  });
});

function catchError(run: () => unknown): ScenarioConfigError {
  try {
    run();
  } catch (error) {
    return error as ScenarioConfigError;
  }
  throw new Error('expected an error');
}
