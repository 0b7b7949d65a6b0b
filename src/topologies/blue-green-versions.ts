import type { PatternLearnerOptions } from '../learning/learner.js';
import { DeploymentConfigError } from './config.js';

/** What a version fixes of its agents' learner. */
export type VersionConfig = Required<Pick<PatternLearnerOptions, 'learningRate' | 'k' | 'similarityThreshold' | 'minEdge'>>;

/**
 * The versions a blue-green group can run, and the learner each selects:
 *
 * | version | learningRate | k  | similarityThreshold | minEdge | what it is                                         |
 * |---------|--------------|----|---------------------|---------|----------------------------------------------------|
 * | v0.9    | 1            | 1  | 0.9                 | 0.1     | the prototype: one neighbour, the last outcome wins |
 * | v1.0    | 0.01         | 7  | 0.9                 | 0.1     | the default learner, slow steps                     |
 * | v1.1    | 0.015        | 9  | 0.9                 | 0.1     |                                                    |
 * | v2.0    | 0.02         | 11 | 0.9                 | 0.1     | the learner's default step, wider vote              |
 *
 * Measured alone on the held-out stream (seeds 1 and 2, 8 episodes): v1.0
 * and v2.0 both reach 0.83–0.90; v0.9 stays at 0.65–0.76, a regression an
 * A/B test should catch.
 */
export const VERSIONS: Readonly<Record<string, VersionConfig>> = {
  'v0.9': { learningRate: 1, k: 1, similarityThreshold: 0.9, minEdge: 0.1 },
  'v1.0': { learningRate: 0.01, k: 7, similarityThreshold: 0.9, minEdge: 0.1 },
  'v1.1': { learningRate: 0.015, k: 9, similarityThreshold: 0.9, minEdge: 0.1 },
  'v2.0': { learningRate: 0.02, k: 11, similarityThreshold: 0.9, minEdge: 0.1 },
};

/** One or both groups name a version the table does not know; `unknown` lists each with its key. */
export class UnknownVersionError extends DeploymentConfigError {
  constructor(readonly unknown: readonly { readonly key: string; readonly version: string }[]) {
    super(
      unknown.map((u) => u.key).join(', '),
      `unknown version${unknown.length > 1 ? 's' : ''} ${unknown.map((u) => JSON.stringify(u.version)).join(', ')}; known versions are ${Object.keys(VERSIONS).join(', ')}`,
    );
  }
}

/** The learner config of each group's version; throws `UnknownVersionError` naming every version the table lacks. */
export function groupVersions(groups: Readonly<Record<'blue' | 'green', { readonly version: string }>>): Record<'blue' | 'green', VersionConfig> {
  const unknown = (['blue', 'green'] as const).filter((g) => !Object.hasOwn(VERSIONS, groups[g].version)).map((g) => ({ key: `${g}.version`, version: groups[g].version }));
  if (unknown.length > 0) throw new UnknownVersionError(unknown);
  return { blue: VERSIONS[groups.blue.version]!, green: VERSIONS[groups.green.version]! };
}
