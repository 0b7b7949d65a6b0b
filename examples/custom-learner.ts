/**
 * Your own learner and your own actor in a deployment.
 *
 * - `LogisticLearner` implements swarmbank's `Learner`: an online logistic
 *   regression on the feature vector, trained by SGD at the agent's learning
 *   rate. `DeployOptions.learner` puts one in every agent of a mesh.
 * - `auditor` is an ordinary actor of yours, spawned in the deployment's
 *   runtime beside the agents: it hears every episode's accuracy and answers
 *   `ask` with its record, supervised like any other actor.
 *
 * Run:  npx tsx examples/custom-learner.ts [--episodes 12]
 */
import {
  ask,
  deploy,
  dispatch,
  featureSpace,
  stateful,
  type ActorRef,
  type Direction,
  type Learner,
  type LearnResult,
  type Prediction,
} from 'swarmbank';

const space = featureSpace();

class LogisticLearner implements Learner {
  readonly featureSpaceId = space.id;
  private readonly weights = new Float64Array(space.dimensions + 1);

  constructor(private readonly learningRate: number) {}

  predict(features: Float32Array): Prediction {
    const p = this.probabilityUp(features);
    const edge = Math.abs(2 * p - 1);
    if (edge < 0.1) return { direction: 0, confidence: edge, position: 'flat' };
    return p > 0.5 ? { direction: 1, confidence: edge, position: 'long' } : { direction: -1, confidence: edge, position: 'short' };
  }

  learn(features: Float32Array, outcome: Direction): LearnResult {
    if (outcome === 0) return { created: [], updated: [] };
    const error = (outcome > 0 ? 1 : 0) - this.probabilityUp(features);
    // A step ten times the pattern learner's rate: a linear model needs more to move.
    const step = 10 * this.learningRate * error;
    for (let i = 0; i < features.length; i++) this.weights[i]! += step * features[i]!;
    this.weights[features.length]! += step;
    return { created: [], updated: [] };
  }

  /** Weights are not patterns: nothing to share with other agents or to store as patterns. */
  exportPatterns() {
    return [];
  }

  private probabilityUp(features: Float32Array): number {
    let z = this.weights[features.length]!;
    for (let i = 0; i < features.length; i++) z += this.weights[i]! * features[i]!;
    return 1 / (1 + Math.exp(-z));
  }
}

type AuditorMessage = { type: 'episode'; episode: number; accuracy: number } | { type: 'report'; replyTo: ActorRef<string> };

const auditor = stateful<{ best: number; episodes: number }, AuditorMessage>({
  initialState: { best: 0, episodes: 0 },
  receive: (state, message) => {
    if (message.type === 'report') {
      dispatch(message.replyTo, `${state.episodes} episodes heard, best held-out accuracy ${(state.best * 100).toFixed(1)}%`);
      return state;
    }
    return { best: Math.max(state.best, message.accuracy), episodes: state.episodes + 1 };
  },
});

const episodes = Number(process.argv[process.argv.indexOf('--episodes') + 1] ?? 12) || 12;
for (const [name, learner] of [
  ['pattern learner (default)', undefined],
  ['logistic learner (yours)', ({ learningRate }: { learningRate: number }) => async () => new LogisticLearner(learningRate)],
] as const) {
  const mesh = deploy({ topology: 'mesh', agentCount: 3 }, { seed: 3, maxEpisodes: episodes, ...(learner === undefined ? {} : { learner }) });
  const audit = mesh.runtime.spawn(mesh.runtime.root, auditor, { name: 'auditor' });
  mesh.events.on('episode', ({ episode, accuracy }) => dispatch(audit, { type: 'episode', episode, accuracy }));
  try {
    const metrics = await mesh.run({ episodes });
    const report = await ask(audit, (replyTo: ActorRef<string>) => ({ type: 'report', replyTo }), 5_000);
    console.log(`${name}: accuracy ${(metrics.accuracy * 100).toFixed(1)}% (oracle ${(metrics.oracleAccuracy * 100).toFixed(1)}%); auditor: ${report}`);
  } finally {
    await mesh.stop();
  }
}
