import { describe, expect, it } from 'vitest';
import type { Learner } from '../../src/learning/learner.js';
import { featureSpace } from '../../src/learning/features.js';
import { parseDeploymentConfig, type MeshConfig } from '../../src/topologies/config.js';
import { MeshDeployment } from '../../src/topologies/mesh.js';
import { useDeployments } from './support.js';

const deployments = useDeployments();
const space = featureSpace();

/** Calls up whatever it sees and learns nothing: a learner anyone can tell apart from the default one. */
function alwaysUp(): Learner {
  return {
    featureSpaceId: space.id,
    predict: () => ({ direction: 1, confidence: 1, position: 'long' }),
    learn: () => ({ created: [], updated: [] }),
    exportPatterns: () => [],
  };
}

describe('a learner of the user’s own in a topology', () => {
  it('is built for every agent with its id and learning rate, and decides for it', async () => {
    const built: { id: string; learningRate: number }[] = [];
    const config = parseDeploymentConfig({ topology: 'mesh', agentCount: 3, learningRate: 0.03 }) as MeshConfig;
    const deployment = deployments.track(
      MeshDeployment.create(config, {
        maxEpisodes: 2,
        market: { evalEpisodes: 2 },
        learner: (agent) => {
          built.push(agent);
          return async () => alwaysUp();
        },
      }),
    );
    const metrics = await deployment.run({ episodes: 2 });
    expect(built).toEqual([
      { id: 'agent-1', learningRate: 0.03 },
      { id: 'agent-2', learningRate: 0.03 },
      { id: 'agent-3', learningRate: 0.03 },
    ]);
    expect(metrics.learningCurve.every((point) => point.decidedFraction > 0.9)).toBe(true);
    const decision = await deployment.decide(new Float32Array(space.dimensions));
    expect(decision).toMatchObject({ direction: 1, votes: { up: 3, down: 0, flat: 0 } });
  });
});
