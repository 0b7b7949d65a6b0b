import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClusterHierarchyStatus } from '../../src/topologies/cluster-hierarchy.js';
import { ClusterHarness, type NodeProcess } from './cluster-harness.js';

/**
 * A hierarchy of four `swarmbank node` processes on 127.0.0.1: the leader,
 * its standby, and two worker nodes (2 + 1 of the config's 3 workers),
 * driven by a client-only Node in this process through their
 * `/hierarchical/control` actors. The tests share the cluster, in order.
 */

const NODES = ['lead', 'spare', 'w1', 'w2'] as const;
let harness: ClusterHarness;
const nodes = {} as Record<(typeof NODES)[number], NodeProcess>;

beforeAll(async () => {
  harness = await ClusterHarness.create();
  nodes.lead = await harness.spawn({ id: 'lead', topology: 'hierarchical', role: 'leader' });
  nodes.spare = await harness.spawn({ id: 'spare', topology: 'hierarchical', role: 'standby', peers: [nodes.lead.address] });
  nodes.w1 = await harness.spawn({ id: 'w1', topology: 'hierarchical', role: 'worker', agents: 2, peers: [nodes.lead.address, nodes.spare.address] });
  nodes.w2 = await harness.spawn({ id: 'w2', topology: 'hierarchical', role: 'worker', agents: 1, peers: [nodes.lead.address, nodes.spare.address, nodes.w1.address] });
  await harness.connect(Object.values(nodes));
  await Promise.all(NODES.map((n) => harness.hierarchyUntil(n, (s) => s.reachableWorkers === 3, 'reaching all 3 workers', 20_000)));
}, 120_000);

afterAll(async () => {
  const ends = await harness?.close();
  for (const end of ends ?? []) expect(end, `node ${end.id} did not stop cleanly`).toMatchObject({ forced: false });
}, 60_000);

function idsOf(status: ClusterHierarchyStatus, agent: string): Set<string> {
  return new Set(status.agents.find((a) => a.id === agent)?.patternIds ?? []);
}

function workerIds(statuses: readonly ClusterHierarchyStatus[]): Set<string> {
  return new Set(statuses.flatMap((s) => s.agents.filter((a) => a.role === 'worker').flatMap((a) => a.patternIds)));
}

describe('a hierarchy of four node processes on 127.0.0.1 over WebTransport/HTTP-2', () => {
  it('aggregates the remote workers in the leader, updates them, and keeps the standby a mirror of the leader', async () => {
    await Promise.all([harness.hierarchyTrain('w1', 2), harness.hierarchyTrain('w2', 2)]);
    const learnt = workerIds(await Promise.all([harness.hierarchyStatus('w1'), harness.hierarchyStatus('w2')]));
    const lead = await harness.hierarchyTrain('lead', 2);

    expect(lead).toMatchObject({ role: 'leader', acting: true, aggregations: 2, episodes: 2 });
    expect(Object.keys(lead.marks).sort()).toEqual(['w1-worker-1', 'w1-worker-2', 'w2-worker-1']);
    const held = idsOf(lead, 'leader');
    expect([...learnt].filter((id) => held.has(id)).length).toBeGreaterThan(0);
    expect(lead.strategyUpdates).toBeGreaterThan(0);
    const spare = await harness.hierarchyUntil('spare', (s) => idsOf(s, 'standby').size === held.size, 'mirroring the leader', 10_000);
    expect(idsOf(spare, 'standby')).toEqual(held);
    expect(spare).toMatchObject({ acting: false, marks: lead.marks });
  }, 120_000);

  it('a SIGKILLed leader: the standby takes over from the shipped marks; the restarted leader recovers from LMDB and gets back what the standby learnt', async () => {
    const before = await harness.hierarchyStatus('lead');
    await nodes.lead.kill();
    await harness.hierarchyUntil('spare', (s) => s.acting, 'acting', 20_000);
    await Promise.all([harness.hierarchyTrain('w1', 1), harness.hierarchyTrain('w2', 1)]);
    const acted = await harness.hierarchyTrain('spare', 2);
    expect(acted.aggregations).toBe(2);
    for (const worker of Object.keys(before.marks)) expect(acted.marks[worker]).toBeGreaterThan(before.marks[worker]!);
    const learnt = idsOf(acted, 'standby');

    nodes.lead = await harness.respawn(nodes.lead);
    // Back from its own journal: the episodes it trained and its marks, before the standby hands back.
    const spare = await harness.hierarchyUntil('spare', (s) => s.handBacks === 1 && !s.acting, 'handed back', 30_000);
    const lead = await harness.hierarchyStatus('lead');
    expect(lead.episodes).toBe(before.episodes);
    expect(lead.marks).toEqual(spare.marks);
    const held = idsOf(lead, 'leader');
    expect([...learnt].filter((id) => !held.has(id))).toEqual([]);
  }, 180_000);
});
