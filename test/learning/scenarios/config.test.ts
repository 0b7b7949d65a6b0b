import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseScenarioConfig, ScenarioConfigError } from '../../../src/learning/scenarios/config.js';
import { runScenario } from '../../../src/learning/scenarios/run.js';

const cleanup: string[] = [];
afterEach(() => {
  for (const dir of cleanup.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

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

  it('refuse a warm-start pattern named twice, naming the repeat', () => {
    const error = catchError(() => parseScenarioConfig('warm-start', { preloadPatterns: ['support_level', 'bullish_reversal', 'support_level'] }));
    expect(error).toMatchObject({ code: 'SCENARIO_CONFIG', key: 'preloadPatterns.2' });
    expect(error.message).toContain('repeats "support_level" (index 0)');
  });

  it('refuse a transfer agent name that is not one plain path segment, naming the key', () => {
    for (const name of ['.', '..', '.hidden', 'a/b', '../a', 'a\\b', '', 'x'.repeat(65)]) {
      expect(catchError(() => parseScenarioConfig('transfer', { sourceAgent: name })), name).toMatchObject({ code: 'SCENARIO_CONFIG', key: 'sourceAgent' });
      expect(catchError(() => parseScenarioConfig('transfer', { targetAgent: name })), name).toMatchObject({ code: 'SCENARIO_CONFIG', key: 'targetAgent' });
    }
    expect(parseScenarioConfig('transfer', { sourceAgent: 'agent.v2', targetAgent: '7~new_agent-b' })).toMatchObject({ sourceAgent: 'agent.v2', targetAgent: '7~new_agent-b' });
  });

  it('refuse a transfer whose target is its own source, naming the target', () => {
    for (const [sourceAgent, targetAgent] of [
      ['a', 'a'],
      ['Agent', 'agent'],
    ]) {
      const error = catchError(() => parseScenarioConfig('transfer', { sourceAgent, targetAgent }));
      expect(error).toMatchObject({ code: 'SCENARIO_CONFIG', key: 'targetAgent' });
      expect(error.message).toContain('must differ from sourceAgent');
    }
  });

  it('refuse the cold baseline agent name for the source or the target, whatever its case', () => {
    for (const name of ['cold', 'Cold']) {
      expect(catchError(() => parseScenarioConfig('transfer', { sourceAgent: name }))).toMatchObject({ key: 'sourceAgent', message: expect.stringContaining('reserved for the cold baseline') });
      expect(catchError(() => parseScenarioConfig('transfer', { targetAgent: name }))).toMatchObject({ key: 'targetAgent', message: expect.stringContaining('reserved for the cold baseline') });
    }
  });

  it('refuse a transfer agent named .. before writing anything, inside or outside the data directory', async () => {
    const parent = fs.mkdtempSync(path.join(os.tmpdir(), 'swarmbank-scenario-config-'));
    cleanup.push(parent);
    const dataDir = path.join(parent, 'data');
    fs.mkdirSync(dataDir);
    await expect(runScenario('transfer', { sourceAgent: '..', continueTraining: 1, sourceEpisodes: 1, evalEpisodes: 1 }, { dataDir })).rejects.toMatchObject({
      code: 'SCENARIO_CONFIG',
      key: 'sourceAgent',
    });
    expect(fs.readdirSync(parent)).toEqual(['data']);
    expect(fs.readdirSync(dataDir)).toEqual([]);
  });

  it('refuse a seed outside 0..2^31−1 before writing anything', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'swarmbank-scenario-config-'));
    cleanup.push(dataDir);
    for (const seed of [2 ** 32, -1]) {
      await expect(runScenario('cold-start', { warmupEpisodes: 1, evalEpisodes: 1 }, { seed, dataDir })).rejects.toMatchObject({ code: 'INVALID_SEED', seed });
    }
    expect(fs.readdirSync(dataDir)).toEqual([]);
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
