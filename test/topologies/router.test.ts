import { afterEach, describe, expect, it } from 'vitest';
import { ask, dispatch } from '../../src/actors/ask.js';
import { stateless } from '../../src/actors/behaviour.js';
import type { ActorRef } from '../../src/actors/ref.js';
import { createRuntime, type Runtime } from '../../src/actors/runtime.js';
import type { AgentMessage } from '../../src/agents/messages.js';
import { openLmdbPersistence } from '../../src/memory/persistence-engine.js';
import type { Direction } from '../../src/market/outcomes.js';
import { router, type Decision, type Group, type RouterMessage, type RouterOptions, type RouterStatus } from '../../src/topologies/router.js';
import type { AgentAddress } from '../../src/topologies/swarm.js';
import { useDeployments } from './support.js';

const dirs = useDeployments();
const runtimes: { runtime: Runtime; close: () => Promise<void> }[] = [];
afterEach(async () => {
  for (const { runtime, close } of runtimes.splice(0)) {
    await runtime.stop();
    await close();
  }
});

/** An agent that always calls `direction`. */
function fixed(runtime: Runtime, id: string, direction: Direction): AgentAddress {
  const ref = runtime.spawn(
    runtime.root,
    stateless<AgentMessage>((message) => {
      if (message.type === 'predict') dispatch(message.replyTo, { ok: true, prediction: { direction, confidence: 1, position: direction > 0 ? 'long' : 'short' } });
    }),
    { name: id },
  );
  return { id, ref };
}

function setup(options: Partial<RouterOptions> & { readonly down?: Set<string> } = {}) {
  const persistence = openLmdbPersistence({ path: dirs.dir() });
  const runtime = createRuntime({ persistence });
  runtimes.push({ runtime, close: () => persistence.close() });
  const agents: Record<Group, AgentAddress[]> = {
    blue: [fixed(runtime, 'blue-1', 1), fixed(runtime, 'blue-2', 1)],
    green: [fixed(runtime, 'green-1', -1), fixed(runtime, 'green-2', -1)],
  };
  const down = options.down ?? new Set<string>();
  const ref = runtime.spawn(
    runtime.root,
    router({
      versions: { blue: 'v1.0', green: 'v2.0' },
      agents: (group) => agents[group].filter((a) => !down.has(a.id)),
      request: (agent, make) => ask(agent.ref, make as (replyTo: ActorRef<unknown>) => AgentMessage, 1_000) as never,
      abTesting: false,
      seed: 1,
      ...options,
    }),
    { name: 'router' },
  );
  const decide = (requestId: string) =>
    ask(ref, (replyTo: ActorRef<Decision>) => ({ type: 'decide', requestId, features: new Float32Array(13), replyTo }), 1_000);
  const promote = (group: Group) => ask(ref, (replyTo: ActorRef<RouterStatus>) => ({ type: 'promote', group, replyTo }), 1_000);
  return { ref, decide, promote };
}

describe('router', () => {
  it('answers each request once, from the live group, and from the promoted one after a promote', async () => {
    const { decide, promote } = setup();
    const before = await Promise.all(Array.from({ length: 20 }, (_, i) => decide(`a-${i}`)));
    await promote('green');
    const after = await Promise.all(Array.from({ length: 20 }, (_, i) => decide(`b-${i}`)));
    expect(before.every((d) => d.group === 'blue' && d.direction === 1 && d.voters === 2 && d.version === 'v1.0')).toBe(true);
    expect(after.every((d) => d.group === 'green' && d.direction === -1 && d.version === 'v2.0')).toBe(true);
  });

  it('splits requests by a seeded draw per request id while A/B testing', async () => {
    const groups = async (seed: number) => {
      const { decide } = setup({ abTesting: true, seed });
      return (await Promise.all(Array.from({ length: 400 }, (_, i) => decide(`r-${i}`)))).map((d) => d.group);
    };
    const first = await groups(1);
    expect(await groups(1)).toEqual(first);
    expect(await groups(2)).not.toEqual(first);
    const green = first.filter((g) => g === 'green').length;
    expect(green).toBeGreaterThan(160);
    expect(green).toBeLessThan(240);
  });

  it('hands a request to the other group when no agent of its own answers, and still answers with nobody left', async () => {
    const down = new Set(['blue-1', 'blue-2']);
    const { decide } = setup({ down });
    expect(await decide('x')).toMatchObject({ group: 'green', fallback: true, direction: -1 });
    down.add('green-1').add('green-2');
    expect(await decide('y')).toEqual({ requestId: 'y', group: undefined, version: undefined, direction: 0, voters: 0, fallback: true });
  });

  it('accepts only router messages', () => {
    const { ref } = setup();
    const typed: ActorRef<RouterMessage> = ref;
    // Compiled, never sent.
    const wrong = () => {
      // @ts-expect-error a promote names a group, not a version
      dispatch(typed, { type: 'promote', group: 'v2.0' });
      // @ts-expect-error the router does not train
      dispatch(typed, { type: 'train' });
    };
    expect(typeof wrong).toBe('function');
  });
});
