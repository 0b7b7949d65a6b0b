import { describe, expect, expectTypeOf, it } from 'vitest';
import { agent } from '../../src/agents/agent.js';
import type { AgentMessage, AgentMetrics, ConfigureReply, MaintainReply } from '../../src/agents/messages.js';
import { ask, type ActorRef } from '../../src/index.js';
import { featureSpace } from '../../src/learning/features.js';
import { PatternLearner, type Learner } from '../../src/learning/learner.js';
import type { LearnerFactory } from '../../src/agents/session.js';
import { ASK_MS, easySeries, trainAll, useAgentFixture } from './support.js';

const space = featureSpace();
const fixture = useAgentFixture();

const configure = (ref: ActorRef<AgentMessage>, learningRate: number) =>
  ask(ref, (replyTo: ActorRef<ConfigureReply>) => ({ type: 'configure', learningRate, replyTo }), ASK_MS);
const metricsOf = (ref: ActorRef<AgentMessage>) => ask(ref, (replyTo: ActorRef<AgentMetrics>) => ({ type: 'metrics', replyTo }), ASK_MS);

/** The default learner, with every instance the agent builds (one per start and per reload) kept to look at. */
function watchedLearners(learningRate: number): { factory: LearnerFactory; built: PatternLearner[] } {
  const built: PatternLearner[] = [];
  const factory: LearnerFactory = async (memory) => {
    const learner = await PatternLearner.open({ space, memory, agentId: 'a', learningRate });
    built.push(learner);
    return learner;
  };
  return { factory, built };
}

describe('agent configure', () => {
  it('is typed: an ask infers the configure reply, and the rate is required', () => {
    const ref = undefined as unknown as ActorRef<AgentMessage>;
    expectTypeOf(() => ask(ref, (replyTo) => ({ type: 'configure', learningRate: 0.02, replyTo }), 1)).returns.toEqualTypeOf<Promise<ConfigureReply>>();
    expectTypeOf(() => {
      // @ts-expect-error a configure names the rate
      void ask(ref, (replyTo) => ({ type: 'configure', replyTo }), 1);
    }).toBeFunction();
  });

  it('changes the learning rate of a running agent and answers with the rate now in effect', async () => {
    const rt = fixture.runtime();
    const { factory, built } = watchedLearners(0.01);
    const ref = rt.spawn(rt.root, agent({ id: 'a', space, memory: await fixture.memory(space), learner: factory }), { name: 'a' });
    expect(await configure(ref, 0.04)).toEqual({ ok: true, learningRate: 0.04 });
    expect(built.at(-1)!.learningRate).toBe(0.04);
    const replies = await trainAll(ref, easySeries(space, 1, 400));
    expect(replies.every((reply) => reply.ok)).toBe(true);
    expect(built.at(-1)!.learningRate).toBe(0.04);
  });

  it('keeps the configured rate when maintenance reloads the learner from the memory', async () => {
    const rt = fixture.runtime();
    const { factory, built } = watchedLearners(0.01);
    const ref = rt.spawn(rt.root, agent({ id: 'a', space, memory: await fixture.memory(space), learner: factory }), { name: 'a' });
    await trainAll(ref, easySeries(space, 2, 600));
    await configure(ref, 0.03);
    const before = built.length;
    const maintained = await ask(ref, (replyTo: ActorRef<MaintainReply>) => ({ type: 'maintain', distill: { similarity: 0.95, minSupport: 1, minConfidence: 0 }, replyTo }), ASK_MS);
    expect(maintained.ok).toBe(true);
    expect(built.length).toBe(before + 1);
    expect(built.at(-1)!.learningRate).toBe(0.03);
  });

  it('refuses a rate out of range, counts the refusal, and keeps the rate it had', async () => {
    const rt = fixture.runtime();
    const { factory, built } = watchedLearners(0.01);
    const ref = rt.spawn(rt.root, agent({ id: 'a', space, memory: await fixture.memory(space), learner: factory }), { name: 'a' });
    for (const rate of [0, -0.5, 1.01, Number.NaN]) {
      expect(await configure(ref, rate)).toMatchObject({ ok: false, error: { code: 'INVALID_OPTION' } });
    }
    expect(built.at(-1)!.learningRate).toBe(0.01);
    expect(await metricsOf(ref)).toMatchObject({ refused: 4, incarnation: 0 });
  });

  it('refuses when its learner has no learning rate to change, and carries on', async () => {
    const rt = fixture.runtime();
    const fixed: Learner = {
      featureSpaceId: space.id,
      predict: () => ({ direction: 0, confidence: 0, position: 'flat' }),
      learn: () => ({ created: [], updated: [] }),
      exportPatterns: () => [],
    };
    const ref = rt.spawn(rt.root, agent({ id: 'a', space, memory: await fixture.memory(space), learner: async () => fixed }), { name: 'a' });
    expect(await configure(ref, 0.02)).toMatchObject({ ok: false, error: { code: 'UNSUPPORTED' } });
    expect(await metricsOf(ref)).toMatchObject({ refused: 1, incarnation: 0 });
  });
});
