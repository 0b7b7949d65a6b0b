import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ask } from '../../src/actors/ask.js';
import type { ActorRef } from '../../src/actors/ref.js';
import { createRuntime } from '../../src/actors/runtime.js';
import { featureSpace } from '../../src/learning/features.js';
import { generateCertificate, type NodeCertificate } from '../../src/net/certificate.js';
import { startNode } from '../../src/net/node.js';
import { CONTROL_PATH, type ClusterControlMessage, ClusterMeshDeployment, type ClusterMeshStatus } from '../../src/topologies/cluster-mesh.js';
import { meshSchema } from '../../src/topologies/config.js';
import { until } from '../net/support.js';

const SECRET = 'cluster-mesh-test-secret-0123456789';
const config = meshSchema.parse({ topology: 'mesh', agentCount: 6, consensusThreshold: 0.66 });
const started: ClusterMeshDeployment[] = [];
const dirs: string[] = [];

const cleanups: (() => Promise<unknown>)[] = [];

afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()));
  await Promise.all(started.splice(0).map((mesh) => mesh.stop()));
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

let certificate: NodeCertificate | undefined;

/** One node of two agents, over real WebTransport on 127.0.0.1. */
async function startMesh(id: string, dataDir: string, peers: readonly ClusterMeshDeployment[], port = 0): Promise<ClusterMeshDeployment> {
  certificate ??= await generateCertificate();
  const mesh = await ClusterMeshDeployment.start(config, {
    seed: 3,
    dataDir,
    localAgents: 2,
    antiEntropyMs: 0,
    maxEpisodes: 20,
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
  started.push(mesh);
  return mesh;
}

/** Three nodes in this process, each dialling the ones before it; their data under one temporary directory. */
async function threeNodes(): Promise<{ readonly nodes: ClusterMeshDeployment[]; readonly dir: string }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'swarmbank-cluster-mesh-'));
  dirs.push(dir);
  const nodes: ClusterMeshDeployment[] = [];
  for (const id of ['a', 'b', 'c']) nodes.push(await startMesh(id, path.join(dir, id), nodes));
  await Promise.all(nodes.flatMap((n) => nodes.filter((m) => m !== n).map((m) => n.node.whenUp(m.node.id))));
  return { nodes, dir };
}

async function patternSets(nodes: readonly ClusterMeshDeployment[]): Promise<Map<string, string>> {
  const sets = new Map<string, string>();
  for (const mesh of nodes) for (const [agent, ids] of await mesh.patternIds()) sets.set(agent, ids.join(','));
  return sets;
}

describe('cluster mesh', () => {
  it('brings every pattern committed on any node into every agent on every node', { timeout: 60_000 }, async () => {
    const { nodes } = await threeNodes();
    const metrics = await Promise.all(nodes.map((mesh) => mesh.run({ episodes: 3 })));
    await Promise.all(nodes.map((mesh) => mesh.sync()));
    const sets = await patternSets(nodes);
    expect(sets.size).toBe(6);
    const union = new Set([...sets.values()].flatMap((ids) => ids.split(',')));
    // Every agent originated patterns, and every agent holds all of them.
    for (const mesh of nodes) for (const agent of mesh.agents().filter((a) => a.node === mesh.node.id)) expect([...union].some((id) => id.includes(agent.id))).toBe(true);
    expect(new Set(sets.values()).size).toBe(1);
    expect([...sets.values()][0]!.split(',').length).toBe(union.size);
    for (const m of metrics) {
      expect(m.topologyMetrics.patternsReplicated).toBeGreaterThan(0);
      // Six agents answer, over the quorum of four: the mesh decides.
      expect(m.learningCurve.at(-1)!.decidedFraction).toBeGreaterThan(0);
    }
  });

  it('abstains on the minority side of a partition while the majority decides, and converges after healing', { timeout: 60_000 }, async () => {
    const { nodes } = await threeNodes();
    const [a, b, c] = nodes as [ClusterMeshDeployment, ClusterMeshDeployment, ClusterMeshDeployment];
    await Promise.all(nodes.map((mesh) => mesh.run({ episodes: 2 })));
    c.node.partition(['a', 'b']);
    a.node.partition(['c']);
    b.node.partition(['c']);
    await Promise.all(nodes.map((mesh) => mesh.trainRound()));
    const features = new Float32Array(featureSpace().dimensions).fill(0.5);
    const minority = await c.decide(features);
    expect(minority).toMatchObject({ direction: 0, abstainedFor: 'no-quorum', live: 2, quorum: 4 });
    const majority = await a.decide(features);
    expect(majority.abstainedFor).toBeUndefined();
    expect(majority.live).toBe(4);
    for (const mesh of nodes) mesh.node.heal();
    await Promise.all([a.node.whenUp('c'), b.node.whenUp('c'), c.node.whenUp('a'), c.node.whenUp('b')]);
    await Promise.all(nodes.map((mesh) => mesh.sync()));
    const sets = await patternSets(nodes);
    expect(new Set(sets.values()).size).toBe(1);
  });

  it('restarts a node from its data: every pattern it had, its next episode, and what it missed from the others', { timeout: 60_000 }, async () => {
    const { nodes, dir } = await threeNodes();
    const [a, b, c] = nodes as [ClusterMeshDeployment, ClusterMeshDeployment, ClusterMeshDeployment];
    await Promise.all(nodes.map((mesh) => mesh.run({ episodes: 2 })));
    await Promise.all(nodes.map((mesh) => mesh.sync()));
    const before = await c.patternIds();
    const port = c.node.address!.port;
    await c.stop();
    started.splice(started.indexOf(c), 1);
    await Promise.all([a, b].map((mesh) => mesh.trainRound()));
    const again = await startMesh('c', path.join(dir, 'c'), [a, b], port);
    expect((await again.status()).episodes).toBe(2);
    const after = await again.patternIds();
    for (const [agent, ids] of before) expect(after.get(agent)).toEqual(expect.arrayContaining(ids));
    await Promise.all([again.node.whenUp('a'), again.node.whenUp('b')]);
    await Promise.all([a, b, again].map((mesh) => mesh.sync()));
    const sets = await patternSets([a, b, again]);
    expect(new Set(sets.values()).size).toBe(1);
    expect([...sets.values()][0]!.split(',').length).toBeGreaterThan([...before.values()][0]!.length);
  });

  it('answers an operator at once while it trains: a partition, a heal and a status do not wait for the training run', { timeout: 60_000 }, async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'swarmbank-cluster-mesh-'));
    dirs.push(dir);
    const a = await startMesh('a', path.join(dir, 'a'), []);
    const b = await startMesh('b', path.join(dir, 'b'), [a]);
    await b.node.whenUp('a');
    // The operator: a client-only node, as the CLI or a test harness drives a mesh node.
    const runtime = createRuntime({ name: 'operator' });
    const operator = await startNode({ id: 'operator', runtime, secret: SECRET, certificate: certificate!, protocol: 'http2', peers: [`127.0.0.1:${b.node.address!.port}`] });
    cleanups.push(async () => {
      await operator.stop();
      await runtime.stop();
    });
    await operator.whenUp('b');
    const control = operator.ref<ClusterControlMessage>('b', CONTROL_PATH);
    let trained = false;
    const training = ask(control, (replyTo: ActorRef<ClusterMeshStatus>) => ({ type: 'train', episodes: 10, replyTo }), 50_000).finally(() => (trained = true));
    // Awaited at the end; a test failing before must not leave it unhandled.
    training.catch(() => undefined);
    const episodes: number[] = [];
    b.events.on('episode', (e) => episodes.push(e.episode));
    await until('b starting its training run', () => episodes.length > 0, 20_000);

    // Timeouts loose enough for a loaded machine (an episode holds this process's event loop): what is checked is the order.
    await expect(ask(control, (replyTo: ActorRef<true>) => ({ type: 'partition', nodes: ['a'], replyTo }), 15_000)).resolves.toBe(true);
    expect(trained, 'the partition was answered while the training run went on').toBe(false);
    expect(b.node.up(), 'cut off from a').toEqual(['operator']);
    await expect(ask(control, (replyTo: ActorRef<true>) => ({ type: 'heal', replyTo }), 15_000)).resolves.toBe(true);
    expect((await ask(control, (replyTo: ActorRef<ClusterMeshStatus>) => ({ type: 'status', replyTo }), 15_000)).node).toBe('b');
    expect(trained, 'the heal and the status were answered while the training run went on').toBe(false);
    expect((await training).episodes).toBe(10);
  });
});
