/**
 * A supervision fault-injection test to copy into your own suite: a seeded
 * FaultPlan kills agents of a mesh mid-run and crashes others at random,
 * and the test checks what a service needs — decisions keep flowing, and no
 * pattern any agent committed is lost.
 *
 * Run:  npx vitest run examples/fault-injection.test.ts
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { deploy, featureSpace, openPatternMemory, type DeploymentEvent, type MeshDeployment } from 'swarmbank';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0)) await step();
});

/** Pattern ids by origin in one agent's memory on disk, read after the deployment stopped. */
async function originsIn(dataDir: string, agent: string): Promise<Map<string, Set<string>>> {
  const space = featureSpace();
  const memory = await openPatternMemory({ path: path.join(dataDir, 'agents', agent), dimensions: space.dimensions, featureSpaceId: space.id });
  const byOrigin = new Map<string, Set<string>>();
  for (const pattern of memory.iterate()) byOrigin.set(pattern.origin, (byOrigin.get(pattern.origin) ?? new Set()).add(pattern.id));
  await memory.close();
  return byOrigin;
}

describe('a mesh under injected faults', () => {
  it('keeps deciding while agents are killed and crash at random, and loses no committed pattern', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'fault-example-'));
    const mesh = deploy({ topology: 'mesh', agentCount: 5, consensusThreshold: 0.6 }, { seed: 11, dataDir, maxEpisodes: 8, market: { evalEpisodes: 4 } }) as MeshDeployment;
    cleanup.push(async () => {
      await mesh.stop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    });
    const votes: Extract<DeploymentEvent, { type: 'vote' }>[] = [];
    mesh.events.on('vote', (vote) => votes.push(vote));

    const plan = mesh.inject({
      seed: 42,
      steps: [
        { at: { afterMessages: 4, path: '/mesh/agent-2' }, kill: '/mesh/agent-2' },
        { at: { afterMessages: 30, path: '/mesh/agent-*' }, kill: '/mesh/agent-*', pick: 'one' },
        // From the 60th message on, any agent message fails 2% of the time.
        { at: { afterMessages: 60 }, inject: { path: '/mesh/agent-*', action: { kind: 'crash' }, trigger: { probability: 0.02 } } },
      ],
    });
    const metrics = await mesh.run({ episodes: 8 });

    expect(metrics.crashes).toBeGreaterThanOrEqual(2);
    expect(votes).toHaveLength(8);
    expect(votes.every((vote) => vote.decided > 0)).toBe(true);
    expect(metrics.accuracy).toBeGreaterThan(0.75);

    // Faults off; once every agent is back, one anti-entropy round settles the mesh.
    plan.cancel();
    for (let wait = 0; wait < 100 && (await mesh.metrics()).perAgent.some((agent) => !agent.live); wait++) await new Promise((r) => setTimeout(r, 50));
    await mesh.sync();
    await mesh.stop();
    const agents = metrics.perAgent.map((agent) => agent.id);
    const memories = new Map(await Promise.all(agents.map(async (id) => [id, await originsIn(dataDir, id)] as const)));
    for (const origin of agents) {
      const committed = memories.get(origin)!.get(origin) ?? new Set();
      for (const peer of agents) {
        const held = memories.get(peer)!.get(origin) ?? new Set();
        expect([...committed].filter((id) => !held.has(id)), `${peer} lost patterns of ${origin}`).toEqual([]);
      }
    }
  });
});
