import { describe, expect, it } from 'vitest';
import { agent } from '../../src/agents/agent.js';
import type { AgentMessage, ImportReply } from '../../src/agents/messages.js';
import { DEFAULT_SCREEN } from '../../src/agents/recent.js';
import { ask, type ActorRef } from '../../src/index.js';
import { episodeStarts } from '../../src/learning/episode.js';
import { featureSpace } from '../../src/learning/features.js';
import { encodeBundle } from '../../src/memory/bundle.js';
import type { Pattern } from '../../src/memory/pattern.js';
import type { PatternMemory } from '../../src/memory/store.js';
import { ASK_MS, easySeries, train, useAgentFixture } from './support.js';

const space = featureSpace();
const fixture = useAgentFixture();

/** The trained agent's confident patterns, renamed as if another agent had learned them, with their outcome as given. */
function foreign(memory: PatternMemory, flip: boolean): Pattern[] {
  return [...memory.iterate()]
    .filter((p) => p.support >= 5 && p.confidence >= 0.7)
    .map((p) => ({ ...p, id: `peer-${p.id}`, origin: 'peer', outcome: flip === (p.outcome === 'up') ? 'down' : 'up' }));
}

async function trainedAgent(): Promise<{ ref: ActorRef<AgentMessage>; memory: PatternMemory }> {
  const rt = fixture.runtime();
  const memory = await fixture.memory(space);
  const ref = rt.spawn(rt.root, agent({ id: 'receiver', space, memory }), { name: 'receiver' });
  const series = easySeries(space, 21, 1_500);
  for (const start of episodeStarts(series)) await train(ref, series, start);
  return { ref, memory };
}

const importInto = (ref: ActorRef<AgentMessage>, bundle: Uint8Array, screen: boolean) =>
  ask(ref, (replyTo: ActorRef<ImportReply>) => ({ type: 'import', bundle, mode: 'full', ...(screen ? { screen: DEFAULT_SCREEN } : {}), replyTo }), ASK_MS);

describe('agent import screening', () => {
  it('refuses patterns that contradict what the agent has just seen, and counts them', async () => {
    const { ref, memory } = await trainedAgent();
    const contrary = foreign(memory, true);
    expect(contrary.length).toBeGreaterThan(10);
    const before = memory.count();
    const reply = await importInto(ref, encodeBundle(contrary, memory), true);
    if (!reply.ok) throw new Error(reply.error.message);
    expect(reply.screened.length).toBeGreaterThan(contrary.length / 2);
    expect(reply.imported.length + reply.screened.length).toBe(contrary.length);
    expect(memory.count()).toBe(before + reply.imported.length);
    for (const id of reply.screened) expect(memory.get(id)).toBeUndefined();
  });

  it('lets through patterns that agree with what the agent has seen', async () => {
    const { ref, memory } = await trainedAgent();
    const agreeing = foreign(memory, false);
    const reply = await importInto(ref, encodeBundle(agreeing, memory), true);
    if (!reply.ok) throw new Error(reply.error.message);
    expect(reply.screened.length).toBeLessThan(agreeing.length / 10);
  });

  it('imports everything valid when not asked to screen', async () => {
    const { ref, memory } = await trainedAgent();
    const contrary = foreign(memory, true);
    const reply = await importInto(ref, encodeBundle(contrary, memory), false);
    if (!reply.ok) throw new Error(reply.error.message);
    expect(reply).toMatchObject({ screened: [] });
    expect(reply.imported).toHaveLength(contrary.length);
  });

  it('refuses screening options out of range before writing anything', async () => {
    const { ref, memory } = await trainedAgent();
    const before = memory.count();
    const bundle = encodeBundle(foreign(memory, true), memory);
    const reply = await ask(
      ref,
      (replyTo: ActorRef<ImportReply>) => ({ type: 'import', bundle, mode: 'full', screen: { ...DEFAULT_SCREEN, minAgreement: 2 }, replyTo }),
      ASK_MS,
    );
    expect(reply).toMatchObject({ ok: false, error: { code: 'INVALID_OPTION' } });
    expect(memory.count()).toBe(before);
  });
});
