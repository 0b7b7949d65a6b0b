import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { featureSpace } from '../../src/learning/features.js';
import { detectHttp3 } from '../../src/net/webtransport.js';
import type { ClusterMeshStatus } from '../../src/topologies/cluster-mesh.js';
import { ClusterHarness, type NodeProcess, convergence, idsOf, summarize } from './cluster-harness.js';
import { sleep } from './support.js';

/**
 * Three `swarmbank node` processes on 127.0.0.1 (2 agents each of a
 * 6-agent mesh: quorum 4), driven by a client-only Node in this process
 * through their `/mesh/control` actors. Starting a child through tsx takes
 * seconds, so the HTTP/2 tests share one cluster, in order: each leaves it
 * whole (all three running, healed, converged) for the next, and a test that
 * finds a node dead starts it again first.
 */

const EPISODES = 3;
const NODES = ['a', 'b', 'c'] as const;
const http3 = await detectHttp3();
const space = featureSpace();

/** Some feature vector of the mesh's space: a vote needs one, its value does not matter here. */
function features(): Float32Array {
  return Float32Array.from(space.names, (name, i) => (name === 'anchor' ? 1 : ((i % 5) - 2) * 0.1));
}

interface Cluster {
  readonly harness: ClusterHarness;
  /** The current process of each node (a restarted node replaces its entry). */
  readonly nodes: Record<(typeof NODES)[number], NodeProcess>;
}

/** a, then b dialling a, then c dialling a and b; the test's client dials all three; every node sees all 6 agents. */
async function startCluster(protocol: 'quic' | 'http2'): Promise<Cluster> {
  const harness = await ClusterHarness.create();
  try {
    const a = await harness.spawn({ id: 'a', protocol });
    const b = await harness.spawn({ id: 'b', protocol, peers: [a.address] });
    const c = await harness.spawn({ id: 'c', protocol, peers: [a.address, b.address] });
    await harness.connect([a, b, c], protocol);
    await allReachAllAgents(harness);
    return { harness, nodes: { a, b, c } };
  } catch (error) {
    await harness.close();
    throw error;
  }
}

function allReachAllAgents(harness: ClusterHarness): Promise<ClusterMeshStatus[]> {
  return Promise.all(NODES.map((n) => harness.statusUntil(n, (s) => s.reachableAgents === 6, 'reaching all 6 agents', 20_000)));
}

/** `episode` lines a node printed from event index `from` on. */
function episodesOf(node: NodeProcess, from = 0): { episode: number; accuracy: number | null }[] {
  return node.events.slice(from).flatMap((e) => (e.event === 'episode' ? [{ episode: e['episode'] as number, accuracy: e['accuracy'] as number | null }] : []));
}

function expectConverged(statuses: readonly ClusterMeshStatus[], what: string): Set<string> {
  const { union, missing } = convergence(statuses);
  expect(missing, `${what}: agents lacking patterns of the union (${union.size}); statuses ${statuses.map(summarize).join(' ')}`).toEqual([]);
  expect(union.size, `${what}: no pattern committed at all`).toBeGreaterThan(0);
  return union;
}

/** Test 1: trains every node, checks accuracy from the `episode` lines, syncs, and checks that every agent holds the union. */
async function trainAndConverge({ harness, nodes }: Cluster, expectedProtocol: string): Promise<void> {
  for (const node of Object.values(nodes)) expect(node.listening.protocol, node.describe()).toBe(expectedProtocol);
  for (const node of Object.values(nodes)) {
    for (const other of NODES.filter((n) => n !== node.id)) expect(node.eventsOf('member-up', other).length, `${node.id} saw ${other} up\n${node.describe()}`).toBeGreaterThan(0);
  }
  const from = Object.fromEntries(NODES.map((n) => [n, nodes[n].events.length]));
  const trained = await Promise.all(NODES.map((n) => harness.train(n, EPISODES)));
  for (const status of trained) {
    const node = nodes[status.node as (typeof NODES)[number]];
    const episodes = episodesOf(node, from[node.id]);
    expect(episodes.length, node.describe()).toBe(EPISODES);
    expect(status.episodes - episodes[0]!.episode + 1, summarize(status)).toBe(EPISODES);
    // ClusterMeshStatus carries no accuracy: the node's own `episode` lines do (the held-out vote of the whole mesh).
    expect(episodes.at(-1)!.accuracy, `held-out accuracy of ${node.id}'s last episode\n${node.describe()}`).toBeGreaterThanOrEqual(0.7);
  }
  const { statuses, rounds } = await harness.converge(NODES);
  const union = expectConverged(statuses, `after ${rounds} sync round(s)`);
  for (const status of trained) expect([...idsOf(status)].filter((id) => !union.has(id)), `${status.node}'s patterns lost`).toEqual([]);
  expect(rounds, 'one sync on every node after training should suffice').toBe(1);
}

describe.sequential('a mesh of three node processes on 127.0.0.1 over WebTransport/HTTP-2', () => {
  let cluster: Cluster;

  beforeAll(async () => {
    cluster = await startCluster('http2');
  }, 90_000);

  afterAll(async () => {
    await cluster?.harness.close(5_000);
  }, 30_000);

  beforeEach(async () => {
    // A test that failed half-way may have left a node dead or partitioned.
    const { harness, nodes } = cluster;
    for (const id of NODES) if (!nodes[id].running) (nodes as Record<string, NodeProcess>)[id] = await harness.respawn(nodes[id]);
    await Promise.all(NODES.map((n) => harness.heal(n)));
    await allReachAllAgents(harness);
  }, 60_000);

  it('converges: every pattern committed anywhere reaches every node', async () => {
    await trainAndConverge(cluster, 'webtransport-http2');
  }, 90_000);

  it('keeps voting while one node is SIGKILLed, and the node recovers from its LMDB memory and catches up', async () => {
    const { harness, nodes } = cluster;
    const { a, b, c } = nodes;
    const training = Promise.all([harness.train('a', EPISODES), harness.train('b', EPISODES)]);
    training.catch(() => undefined);
    await a.waitFor((e) => e.event === 'episode', "a's first episode of this run", 60_000, a.events.length);
    const before = idsOf(await harness.status('c'));
    // Let LMDB's asynchronous commit of what c just reported reach the disk.
    await sleep(250);
    const killedAt = { a: a.events.length, b: b.events.length };
    await c.kill();

    // The others see c go (its sessions close, or at worst it is silent past the failure timeout), and go on voting with 4 of the 6 agents: a quorum, just.
    await Promise.all([a, b].map((node) => node.waitFor((e) => e.event === 'member-down' && e['node'] === 'c', 'c down', 15_000, killedAt[node.id as 'a' | 'b'])));
    const trained = await training;
    // (The train replies' statuses may predate the detection; ask again.)
    for (const status of await Promise.all(['a', 'b'].map((n) => harness.status(n)))) expect(status.reachableAgents, summarize(status)).toBe(4);
    const votedWithoutC = [...episodesOf(a, killedAt.a), ...episodesOf(b, killedAt.b)];
    expect(votedWithoutC.length, 'episodes evaluated by a and b after the kill').toBeGreaterThan(0);
    for (const { accuracy } of votedWithoutC) expect(accuracy, 'a vote of 4 agents decides (no abstention for want of quorum)').not.toBeNull();
    for (const node of ['a', 'b']) {
      const decision = await harness.decide(node, features());
      expect(decision, `decide on ${node} with c dead`).toMatchObject({ quorum: 4, live: 4 });
      expect(decision.abstainedFor, `decide on ${node} with c dead: ${JSON.stringify(decision)}`).toBeUndefined();
    }

    // c again, on the same port and the same memory.
    const again = await harness.respawn(c);
    nodes.c = again;
    expect(again.listening.port).toBe(c.listening.port);
    expect(again.listening.incarnation).not.toBe(c.listening.incarnation);
    const recovered = await harness.statusUntil('c', (s) => s.incarnation === again.listening.incarnation, 'answering in its new incarnation', 20_000);
    const lost = [...before].filter((id) => !idsOf(recovered).has(id));
    expect(lost, `patterns c held before SIGKILL (${before.size}) missing right after its restart (${summarize(recovered)})`).toEqual([]);

    await harness.statusUntil('c', (s) => s.reachableAgents === 6, 'reaching all 6 agents again', 20_000);
    const { statuses, rounds } = await harness.converge(NODES);
    const union = expectConverged(statuses, `after c's restart, ${rounds} sync round(s)`);
    const committed = new Set([...before, ...trained.flatMap((s) => [...idsOf(s)])]);
    expect([...committed].filter((id) => !union.has(id)), 'patterns lost across the kill').toEqual([]);
  }, 120_000);

  it('a partitioned node abstains for want of quorum, the majority decides, and healing brings back one pattern set', async () => {
    const { harness, nodes } = cluster;
    await Promise.all([harness.partition('c', ['a', 'b']), harness.partition('a', ['c']), harness.partition('b', ['c'])]);
    await harness.statusUntil('c', (s) => s.reachableAgents === 2, 'cut off (2 agents reachable)', 10_000);
    await Promise.all(['a', 'b'].map((n) => harness.statusUntil(n, (s) => s.reachableAgents === 4, 'without c (4 agents reachable)', 10_000)));

    const fromC = nodes.c.events.length;
    const fromA = nodes.a.events.length;
    const trained = await Promise.all(NODES.map((n) => harness.train(n, 2)));
    // The minority evaluates without deciding anything (accuracy NaN, printed as null); the majority decides.
    expect(episodesOf(nodes.c, fromC).map((e) => e.accuracy), nodes.c.describe()).toEqual([null, null]);
    for (const { accuracy } of episodesOf(nodes.a, fromA)) expect(accuracy).not.toBeNull();
    const minority = await harness.decide('c', features());
    expect(minority, JSON.stringify(minority)).toMatchObject({ abstainedFor: 'no-quorum', direction: 0, quorum: 4, live: 2 });
    for (const node of ['a', 'b']) {
      const decision = await harness.decide(node, features());
      expect(decision, `decide on ${node}`).toMatchObject({ quorum: 4, live: 4 });
      expect(decision.abstainedFor, `decide on ${node}: ${JSON.stringify(decision)}`).toBeUndefined();
    }
    // The partition held: the two sides learnt apart, so their pattern sets differ until healed.
    const [idsA, idsC] = (await Promise.all([harness.status('a'), harness.status('c')])).map(idsOf) as [Set<string>, Set<string>];
    const apart = [...[...idsA].filter((id) => !idsC.has(id)), ...[...idsC].filter((id) => !idsA.has(id))];
    expect(apart.length, 'patterns on one side of the partition only').toBeGreaterThan(0);

    await Promise.all(NODES.map((n) => harness.heal(n)));
    await allReachAllAgents(harness);
    const { statuses, rounds } = await harness.converge(NODES);
    const union = expectConverged(statuses, `after healing, ${rounds} sync round(s)`);
    for (const status of trained) expect([...idsOf(status)].filter((id) => !union.has(id)), `${status.node}'s patterns lost`).toEqual([]);
  }, 90_000);

  it('stops every node cleanly on SIGTERM: it prints "stopped" and exits 0', async () => {
    const { nodes } = cluster;
    const began = Date.now();
    const timings: Record<string, { stoppedMs?: number; exitMs?: number }> = {};
    for (const node of Object.values(nodes)) {
      const timing: { stoppedMs?: number; exitMs?: number } = (timings[node.id] = {});
      node.waitFor((e) => e.event === 'stopped', 'stopped line', 25_000, node.events.length).then(() => (timing.stoppedMs = Date.now() - began), () => undefined);
      void node.exit.then(() => (timing.exitMs = Date.now() - began));
    }
    const ends = await Promise.all(NODES.map((n) => nodes[n].stop(20_000)));
    const slow = Object.entries(timings).filter(([, t]) => (t.exitMs ?? Infinity) > 5_000);
    if (slow.length > 0) console.warn(`slow shutdown after SIGTERM (ms): ${JSON.stringify(Object.fromEntries(slow))}`);
    for (const [i, end] of ends.entries()) {
      const node = nodes[NODES[i]!];
      const what = `SIGTERM → ${JSON.stringify(timings[node.id])}\n${node.describe()}`;
      expect({ ...end, stopped: node.eventsOf('stopped').length }, what).toEqual({ code: 0, signal: null, forced: false, stopped: 1 });
    }
  }, 30_000);
});

describe('the same mesh over HTTP/3', () => {
  it.skipIf(!http3.available)(
    `converges over WebTransport/HTTP-3${http3.available ? '' : ` — skipped: ${http3.reason ?? 'HTTP/3 unavailable'}`}`,
    async () => {
      const cluster = await startCluster('quic');
      try {
        await trainAndConverge(cluster, 'webtransport-http3');
      } finally {
        await cluster.harness.close(5_000);
      }
    },
    150_000,
  );
});
