import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { generateCertificate } from '../src/net/certificate.js';
import { ClusterMeshDeployment } from '../src/topologies/cluster-mesh.js';
import { meshSchema } from '../src/topologies/config.js';
import type { DeploymentEvent } from '../src/topologies/events.js';
import { summarize } from '../src/topologies/evaluation.js';

/**
 * Pattern sync latency across three nodes: from an agent's commit on one
 * node to its patterns being in the memories of the agents on both other
 * nodes. Three nodes (one agent each) run in this process over real
 * WebTransport sessions on 127.0.0.1, so one clock (`performance.now`,
 * which every runtime here uses) times both ends. Nodes take turns to
 * train a round; the others are idle, and pull only on the commit notice
 * (anti-entropy timers are off), so what is timed is notice → pull → import.
 * Target (issue #7): p99 under 20 ms.
 */

const COMMITS = 60;
const WAIT_MS = 5_000;

export async function run(args: readonly string[]): Promise<void> {
  const json = args.includes('--json');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'swarmbank-bench-sync-'));
  const certificate = await generateCertificate();
  const secret = 'bench-cluster-secret-0123456789';
  const config = meshSchema.parse({ topology: 'mesh', agentCount: 3 });
  const nodes: ClusterMeshDeployment[] = [];
  try {
    for (const id of ['a', 'b', 'c']) {
      const peers = nodes.map((n) => `127.0.0.1:${n.node.address!.port}`);
      nodes.push(
        await ClusterMeshDeployment.start(config, {
          seed: 1,
          dataDir: path.join(dir, id),
          localAgents: 1,
          antiEntropyMs: 0,
          maxEpisodes: COMMITS + 10,
          node: { id, secret, certificate, protocol: 'http2', listen: { host: '127.0.0.1', port: 0 }, peers },
        }),
      );
    }
    await Promise.all(nodes.flatMap((n) => nodes.filter((m) => m !== n).map((m) => n.node.whenUp(m.node.id))));
    // Joining triggers a pull of every member's agents; let those settle before timing.
    await Promise.all(nodes.map((n) => n.sync()));
    const latencies: number[] = [];
    let missed = 0;
    for (let i = 0; i < COMMITS; i++) {
      const origin = nodes[i % nodes.length]!;
      const others = nodes.filter((n) => n !== origin);
      const commits: DeploymentEvent[] = [];
      const stopCommits = origin.events.on('commit', (e) => commits.push(e));
      const arrivals = new Map<string, number>();
      const stops = others.map((n) =>
        n.events.on('sync', (e) => {
          const agent = origin.agents().find((a) => a.node === origin.node.id)!;
          if (e.from === agent.id && e.patterns > 0 && !arrivals.has(n.node.id)) arrivals.set(n.node.id, e.at);
        }),
      );
      await origin.trainRound();
      const commit = commits[0];
      const deadline = performance.now() + WAIT_MS;
      while (commit !== undefined && arrivals.size < others.length && performance.now() < deadline) await new Promise((r) => setTimeout(r, 1));
      stopCommits();
      for (const stop of stops) stop();
      if (commit === undefined) continue;
      if (arrivals.size < others.length) missed++;
      else latencies.push(Math.max(...arrivals.values()) - commit.at);
    }
    const s = summarize(latencies);
    if (json) console.log(JSON.stringify({ suite: 'net-sync', commits: latencies.length, missed, ...s }));
    else {
      console.log(`\npattern sync, commit → present on all 3 nodes (in one process, loopback WebTransport/HTTP-2), ${latencies.length} commits:`);
      console.log(`  p50 ${s.p50Ms.toFixed(1)} ms  p99 ${s.p99Ms.toFixed(1)} ms  max ${s.maxMs.toFixed(1)} ms  (target p99 < 20 ms)${missed > 0 ? `; ${missed} commits did not arrive within ${WAIT_MS} ms` : ''}`);
    }
  } finally {
    await Promise.all(nodes.map((n) => n.stop()));
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
