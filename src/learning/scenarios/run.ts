import { runColdStart } from './cold-start.js';
import { parseScenarioConfig, type ScenarioInputs, type ScenarioName } from './config.js';
import { runContinual } from './continual.js';
import { runForgetting } from './forgetting.js';
import type { ScenarioResult } from './result.js';
import { runTransfer } from './transfer.js';
import { runWarmStart } from './warm-start.js';
import type { ScenarioRunOptions } from './workbench.js';

/**
 * Runs one of the five learning scenarios with a config as DESIGN.md writes
 * it (validated: an unknown scenario or key, or a value out of range, is a
 * `ScenarioConfigError` naming it) and returns its measured figures beside
 * the reference's claims. The same seed gives the same learning curve.
 */
export async function runScenario<N extends ScenarioName>(name: N, config: ScenarioInputs[N] = {}, options: ScenarioRunOptions = {}): Promise<ScenarioResult<N>> {
  parseScenarioConfig(name, config);
  const runners: { readonly [K in ScenarioName]: (config: ScenarioInputs[K], options: ScenarioRunOptions) => Promise<ScenarioResult<K>> } = {
    'cold-start': runColdStart,
    'warm-start': runWarmStart,
    transfer: runTransfer,
    continual: runContinual,
    forgetting: runForgetting,
  };
  return (runners[name] as (config: ScenarioInputs[N], options: ScenarioRunOptions) => Promise<ScenarioResult<N>>)(config, options);
}
