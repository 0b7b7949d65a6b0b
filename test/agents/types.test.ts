import { describe, expectTypeOf, it } from 'vitest';
import { agent, type AgentOptions } from '../../src/agents/agent.js';
import type { AgentMessage, AgentMetrics, EpisodeReply, PredictReply } from '../../src/agents/messages.js';
import { ask, dispatch, type ActorRef, type Behaviour } from '../../src/index.js';
import type { FeatureSeries } from '../../src/learning/episode.js';
import type { PatternMemory } from '../../src/memory/store.js';

// Only the compiler reads these: the functions below are type-checked, never called.
declare const ref: ActorRef<AgentMessage>;
declare const series: FeatureSeries;

describe('agent types', () => {
  it('types the behaviour by the agent message union, over a lent memory or a directory', () => {
    expectTypeOf(agent).returns.toEqualTypeOf<Behaviour<AgentMessage>>();
    expectTypeOf<AgentOptions['memory']>().toEqualTypeOf<PatternMemory | { readonly path: string; readonly capacity?: number }>();
  });

  it('infer the reply of an ask from the reply ref a request is made with', () => {
    expectTypeOf(() => ask(ref, (replyTo: ActorRef<EpisodeReply>) => ({ type: 'train', series, start: 0, replyTo }), 1)).returns.toEqualTypeOf<
      Promise<EpisodeReply>
    >();
    expectTypeOf(() => ask(ref, (replyTo: ActorRef<AgentMetrics>) => ({ type: 'metrics', replyTo }), 1)).returns.toEqualTypeOf<Promise<AgentMetrics>>();
    expectTypeOf(() => {
      // @ts-expect-error a prediction is not what an evaluation replies with
      void ask(ref, (replyTo: ActorRef<PredictReply>) => ({ type: 'evaluate', series, start: 0, replyTo }), 1);
    }).toBeFunction();
  });

  it('infer the reply of an ask from the request built, with an unannotated reply ref', () => {
    expectTypeOf(() => ask(ref, (replyTo) => ({ type: 'train', series, start: 0, replyTo }), 1)).returns.toEqualTypeOf<Promise<EpisodeReply>>();
    expectTypeOf(() => ask(ref, (replyTo) => ({ type: 'evaluate', series, start: 0, replyTo }), 1)).returns.toEqualTypeOf<Promise<EpisodeReply>>();
    expectTypeOf(() => ask(ref, (replyTo) => ({ type: 'predict', features: new Float32Array(0), replyTo }), 1)).returns.toEqualTypeOf<
      Promise<PredictReply>
    >();
    expectTypeOf(() => ask(ref, (replyTo) => ({ type: 'metrics', replyTo }), 1)).returns.toEqualTypeOf<Promise<AgentMetrics>>();
    expectTypeOf(() => {
      // @ts-expect-error an evaluation needs its window
      void ask(ref, (replyTo) => ({ type: 'evaluate', replyTo }), 1);
    }).toBeFunction();
  });

  it('let a train message go without a reply ref, and no other request', () => {
    expectTypeOf(() => {
      dispatch(ref, { type: 'train', series, start: 0 });
      // @ts-expect-error an evaluation is asked for its result
      dispatch(ref, { type: 'evaluate', series, start: 0 });
      // @ts-expect-error messages are told apart by type
      dispatch(ref, { type: 'forget', series, start: 0 });
    }).toBeFunction();
  });

  it('narrow a reply by ok', () => {
    expectTypeOf<Extract<EpisodeReply, { ok: true }>['result']['accuracy']>().toEqualTypeOf<number>();
    expectTypeOf<Extract<EpisodeReply, { ok: false }>['error']['code']>().toMatchTypeOf<string>();
  });
});
