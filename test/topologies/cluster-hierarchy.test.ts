import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { DeploymentEvent } from '../../src/topologies/events.js';
import { generateCertificate, type NodeCertificate } from '../../src/net/certificate.js';
import { ClusterHierarchicalDeployment, type HierarchyNodeRole } from '../../src/topologies/cluster-hierarchy.js';
import { hierarchicalSchema } from '../../src/topologies/config.js';
import { featureSpace } from '../../src/learning/features.js';
import { openPatternMemory } from '../../src/memory/store.js';

const SECRET = 'cluster-hierarchy-test-secret-0123456789';
const config = hierarchicalSchema.parse({
  topology: 'hierarchical',
  leader: { learningRate: 0.005, memorySize: 5_000 },
  workers: { count: 3, learningRate: 0.05, memorySize: 2_000 },
  standby: true,
});
const started: ClusterHierarchicalDeployment[] = [];
const dirs: string[] = [];

afterEach(async () => {
  await Promise.all(started.splice(0).map((node) => node.stop()));
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

let certificate: NodeCertificate | undefined;

async function startNode(id: string, role: HierarchyNodeRole, localWorkers: number, dataDir: string, peers: readonly ClusterHierarchicalDeployment[], port = 0) {
  certificate ??= await generateCertificate();
  const node = await ClusterHierarchicalDeployment.start(config, {
    seed: 5,
    dataDir,
    role,
    localWorkers,
    checkMs: 0,
    maxEpisodes: 30,
    node: {
      id,
      secret: SECRET,
      certificate,
      protocol: 'http2',
      listen: { host: '127.0.0.1', port },
      peers: peers.map((n) => `127.0.0.1:${n.node.address!.port}`),
      heartbeatMs: 50,
      failureTimeoutMs: 2_000,
      reconnect: { minMs: 20, maxMs: 200 },
    },
  });
  started.push(node);
  return node;
}

/** A leader node, a standby node and a node of workers (2 of the 3; the leader hosts the third), all in this process. */
async function hierarchy() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'swarmbank-cluster-hierarchy-'));
  dirs.push(dir);
  const leader = await startNode('lead', 'leader', 1, path.join(dir, 'lead'), []);
  const standby = await startNode('spare', 'standby', 0, path.join(dir, 'spare'), [leader]);
  const workers = await startNode('w', 'worker', 2, path.join(dir, 'w'), [leader, standby]);
  const nodes = [leader, standby, workers];
  await Promise.all(nodes.flatMap((n) => nodes.filter((m) => m !== n).map((m) => n.node.whenUp(m.node.id))));
  // Every node knows the others' agents before the first round.
  await until(async () => (await Promise.all(nodes.map((n) => n.status()))).every((s) => s.reachableWorkers === 3), 'directories learnt');
  return { dir, leader, standby, workers };
}

async function until(check: () => Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`not ${what} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function own(ids: Map<string, string[]>, agent: string): Set<string> {
  return new Set(ids.get(agent) ?? []);
}

describe('cluster hierarchy', () => {
  it('aggregates remote workers into the leader, pushes strategy updates back, and ships the standby what the leader holds', async () => {
    const { leader, standby, workers } = await hierarchy();
    await workers.run({ episodes: 2 });
    const before = await workers.patternIds();
    await leader.run({ episodes: 2 });

    const status = await leader.status();
    expect(status.acting).toBe(true);
    expect(status.aggregations).toBe(2);
    expect(Object.keys(status.marks).sort()).toEqual(['lead-worker-1', 'w-worker-1', 'w-worker-2']);
    const leaderIds = own(await leader.patternIds(), 'leader');
    // Each remote worker's patterns reached the leader...
    for (const worker of ['w-worker-1', 'w-worker-2']) expect([...own(before, worker)].filter((id) => leaderIds.has(id)).length).toBeGreaterThan(0);
    // ...and the leader's update reached each remote worker: patterns it did not learn itself.
    const after = await workers.patternIds();
    for (const worker of ['w-worker-1', 'w-worker-2']) expect([...own(after, worker)].filter((id) => !own(before, worker).has(id)).length).toBeGreaterThan(0);
    expect(status.strategyUpdates).toBeGreaterThan(0);
    // The standby follows: it holds what the leader holds, and the marks that cover it.
    const spare = await standby.status();
    expect(spare.acting).toBe(false);
    expect(new Set(spare.agents.find((a) => a.id === 'standby')!.patternIds)).toEqual(leaderIds);
    expect(spare.marks).toEqual(status.marks);
  }, 120_000);

  it('a restarted leader goes on from its journaled marks: nothing aggregated twice', async () => {
    const { dir, leader, workers } = await hierarchy();
    await workers.run({ episodes: 2 });
    await leader.run({ episodes: 1 });
    const marks = (await leader.status()).marks;
    const port = leader.node.address!.port;
    await leader.stop();
    started.splice(started.indexOf(leader), 1);

    // Back without its own worker, so that only the remote workers are aggregated.
    const again = await startNode('lead', 'leader', 0, path.join(dir, 'lead'), [workers], port);
    await until(async () => (await again.status()).reachableWorkers === 2, 'workers reachable again');
    const status = await again.status();
    expect(status.episodes).toBe(1);
    expect(status.marks).toEqual(marks);
    // The remote workers learnt nothing since: the next aggregation takes nothing from them.
    const aggregated: number[] = [];
    again.events.on('aggregate', (event) => aggregated.push(event.patterns));
    await again.run({ episodes: 1 });
    expect(aggregated).toEqual([0]);
    // They learn, and the next aggregation takes what they learnt.
    await workers.run({ episodes: 1 });
    await again.run({ episodes: 1 });
    expect(aggregated[1]).toBeGreaterThan(0);
  }, 120_000);

  it('a restarted leader ships its standby a whole mirror: what the leader dropped meanwhile leaves the standby too', async () => {
    const { dir, leader, standby, workers } = await hierarchy();
    await workers.run({ episodes: 2 });
    await leader.run({ episodes: 1 });
    const mirrored = own(await standby.patternIds(), 'standby');
    expect(mirrored).toEqual(own(await leader.patternIds(), 'leader'));
    const port = leader.node.address!.port;
    await leader.stop();
    started.splice(started.indexOf(leader), 1);
    // What the leader dropped while its standby was not told, as when it merged patterns away and crashed before shipping.
    const memory = await openPatternMemory({ path: path.join(dir, 'lead', 'agents', 'leader'), dimensions: featureSpace().dimensions, featureSpaceId: featureSpace().id });
    const dropped = [...memory.iterate()].filter((p) => p.origin.startsWith('w-worker')).slice(0, 3).map((p) => p.id);
    expect(dropped).toHaveLength(3);
    for (const id of dropped) await memory.delete(id);
    await memory.close();

    const again = await startNode('lead', 'leader', 0, path.join(dir, 'lead'), [standby, workers], port);
    await until(async () => (await again.status()).reachableWorkers === 2, 'workers reachable again');
    await until(async () => (await standby.status()).members.some((m) => m.node === 'lead' && m.status === 'up'), 'standby sees the leader again');
    await again.run({ episodes: 1 });

    const leaderIds = own(await again.patternIds(), 'leader');
    const standbyIds = own(await standby.patternIds(), 'standby');
    expect(standbyIds).toEqual(leaderIds);
    expect(dropped.filter((id) => !leaderIds.has(id)).length).toBeGreaterThan(0);
  }, 120_000);

  it('the standby takes over while cut off from the leader, and hands back what it learnt once healed', async () => {
    const { leader, standby, workers } = await hierarchy();
    const events: DeploymentEvent[] = [];
    standby.events.subscribe((event) => events.push(event));
    await workers.run({ episodes: 1 });
    await leader.run({ episodes: 1 });
    const shipped = (await standby.status()).marks;

    standby.node.partition(['lead']);
    leader.node.partition(['spare']);
    await until(async () => standby.acting(), 'standby acting');
    await workers.run({ episodes: 2 });
    await standby.run({ episodes: 2 });
    const acted = await standby.status();
    expect(events.filter((e) => e.type === 'take-over')).toHaveLength(1);
    expect(acted.aggregations).toBe(2);
    for (const worker of ['w-worker-1', 'w-worker-2']) expect(acted.marks[worker]).toBeGreaterThan(shipped[worker]!);
    const learnt = own(await standby.patternIds(), 'standby');

    standby.node.heal();
    leader.node.heal();
    await until(async () => (await standby.status()).handBacks === 1, 'handed back', 20_000);
    expect(standby.acting()).toBe(false);
    const status = await leader.status();
    for (const worker of ['w-worker-1', 'w-worker-2']) expect(status.marks[worker]).toBe(acted.marks[worker]);
    const leaderIds = own(await leader.patternIds(), 'leader');
    expect([...learnt].filter((id) => !leaderIds.has(id))).toEqual([]);
    expect(events.find((e) => e.type === 'hand-back')).toMatchObject({ from: 'standby', to: 'leader' });
  }, 120_000);

  it('refuses options that cannot make a hierarchy node, before starting anything', async () => {
    const node = { id: 'x', secret: SECRET };
    await expect(ClusterHierarchicalDeployment.start(config, { role: 'worker', localWorkers: 0, node })).rejects.toThrow(/localWorkers must be an integer in \[1, workers.count = 3\]/);
    await expect(ClusterHierarchicalDeployment.start(config, { role: 'leader', localWorkers: 4, node })).rejects.toThrow(/localWorkers/);
    await expect(ClusterHierarchicalDeployment.start({ ...config, standby: false }, { role: 'standby', node })).rejects.toThrow(/standby: true/);
    await expect(ClusterHierarchicalDeployment.start(config, { role: 'boss' as HierarchyNodeRole, node })).rejects.toThrow(/role must be/);
  });
});
