import { SwarmbankError } from '../errors.js';

/** An agent option is invalid, or disagrees with the feature space: a configuration mistake, not bad input. */
export class AgentOptionsError extends SwarmbankError {
  constructor(
    readonly option: string,
    message: string,
  ) {
    super('AGENT_OPTIONS', `agent option ${option}: ${message}`);
  }
}

/** Feature vectors sent to an agent are not of its feature space's size. */
export class FeatureDimensionsError extends SwarmbankError {
  constructor(
    readonly expected: number,
    readonly actual: number,
    where: string,
  ) {
    super('FEATURE_DIMENSIONS', `${where} has ${actual} dimensions, the agent's feature space has ${expected}`);
  }
}
