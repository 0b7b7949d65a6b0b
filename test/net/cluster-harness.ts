import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { ask } from '../../src/actors/ask.js';
import type { ActorRef } from '../../src/actors/ref.js';
import { createRuntime, type Runtime } from '../../src/actors/runtime.js';
import { generateCertificate, type NodeCertificate } from '../../src/net/certificate.js';
import { startNode, type Node } from '../../src/net/node.js';
import { type ClusterHierarchyStatus, HIERARCHY_CONTROL_PATH, type HierarchyControlMessage } from '../../src/topologies/cluster-hierarchy.js';
import { CONTROL_PATH, type ClusterControlMessage, type ClusterDecision, type ClusterMeshStatus } from '../../src/topologies/cluster-mesh.js';
import { sleep } from './support.js';

/**
 * Real `swarmbank node` processes on 127.0.0.1 for the cluster tests, and a
 * client-only Node in the test process that drives them through their
 * `/mesh/control` actors. Every wait is bounded; `close()` kills whatever is
 * still running and removes the temporary directory.
 */

const CLI = fileURLToPath(new URL('./fixtures/swarmbank.ts', import.meta.url));
const SECRET = 'a-cluster-secret-for-the-process-tests';

/**
 * Short heartbeats and anti-entropy. The failure timeout is not short: a
 * node's first training round blocks its event loop for seconds on a loaded
 * machine (5–6 s silences seen with 2 CPUs at load 13), and a 1 s timeout
 * then takes every member down and up again mid-test. A SIGKILLed peer is
 * noticed at once anyway, from its closed session, and a partition detaches
 * its sessions itself.
 */
export const FAST_FLAGS = ['--heartbeat-ms', '100', '--failure-timeout-ms', '8000', '--anti-entropy-ms', '500'] as const;

/** One line of `swarmbank node --json` output. */
export interface NodeEvent {
  readonly event: string;
  readonly [key: string]: unknown;
}

export interface ListeningEvent extends NodeEvent {
  readonly event: 'listening';
  readonly node: string;
  readonly host: string;
  readonly port: number;
  readonly protocol: string;
  readonly certificateHash: string;
  readonly incarnation: string;
}

export interface SpawnOptions {
  readonly id: string;
  /** Default 0: a free port. */
  readonly port?: number;
  /** `host:port` of peers to dial. */
  readonly peers?: readonly string[];
  readonly agents?: number;
  readonly protocol?: 'quic' | 'http2';
  /** Default: `<root>/data-<id>`; give the same one again to restart a node on its memory. */
  readonly dataDir?: string;
  /** Default a six-agent mesh; a hierarchy's node also needs its `role`. */
  readonly topology?: 'mesh' | 'hierarchical';
  readonly role?: 'leader' | 'standby' | 'worker';
  readonly extra?: readonly string[];
}

/** A `swarmbank node` child process and what it printed. */
export class NodeProcess {
  readonly events: NodeEvent[] = [];
  readonly stdoutNoise: string[] = [];
  stderr = '';
  private readonly waiters = new Set<() => void>();
  readonly exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(
    readonly id: string,
    readonly child: ChildProcess,
    readonly command: string,
    readonly dataDir: string,
    /** How it was started, to start it again. */
    readonly options: SpawnOptions,
  ) {
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      let parsed: unknown;
      try {
        parsed = JSON.parse(line);
      } catch {
        this.stdoutNoise.push(line);
        return;
      }
      if (typeof parsed === 'object' && parsed !== null && typeof (parsed as NodeEvent).event === 'string') this.events.push(parsed as NodeEvent);
      else this.stdoutNoise.push(line);
      this.notify();
    });
    child.stderr!.on('data', (chunk: Buffer) => {
      this.stderr += chunk.toString();
    });
    this.exit = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        resolve({ code, signal });
        this.notify();
      });
    });
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  get listening(): ListeningEvent {
    const event = this.events.find((e): e is ListeningEvent => e.event === 'listening');
    if (event === undefined) throw new Error(`node ${this.id} has not printed its listening line`);
    return event;
  }

  get address(): string {
    return `127.0.0.1:${this.listening.port}`;
  }

  /** Events of one kind (optionally about one node) printed so far. */
  eventsOf(kind: string, node?: string): NodeEvent[] {
    return this.events.filter((e) => e.event === kind && (node === undefined || e['node'] === node));
  }

  /** Resolves with the first event (from index `from` on) that `accept` takes; rejects on timeout or exit, with what the node printed. */
  waitFor(accept: (event: NodeEvent) => boolean, what: string, timeoutMs: number, from = 0): Promise<NodeEvent> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        const found = this.events.slice(from).find(accept);
        if (found !== undefined) {
          done();
          resolve(found);
        } else if (!this.running) {
          done();
          reject(new Error(`node ${this.id} exited (code ${this.child.exitCode}, signal ${this.child.signalCode}) before ${what}\n${this.describe()}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`node ${this.id}: no ${what} within ${timeoutMs} ms\n${this.describe()}`));
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      this.waiters.add(check);
      check();
    });
  }

  /** SIGKILL, as a crash would; resolves once the process is gone. */
  async kill(): Promise<void> {
    if (this.running) this.child.kill('SIGKILL');
    await this.exit;
  }

  /** SIGTERM, then SIGKILL if it has not exited within `graceMs`. Resolves with how it ended. */
  async stop(graceMs: number): Promise<{ code: number | null; signal: NodeJS.Signals | null; forced: boolean }> {
    if (!this.running) return { ...(await this.exit), forced: false };
    this.child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), graceMs);
    });
    const ended = await Promise.race([this.exit, late]);
    clearTimeout(timer);
    if (ended !== 'late') return { ...ended, forced: false };
    this.child.kill('SIGKILL');
    return { ...(await this.exit), forced: true };
  }

  /** The command line and the tail of what the process printed, for failure messages. */
  describe(): string {
    const tail = (text: string) => text.split('\n').slice(-30).join('\n');
    return `$ ${this.command}\n--- stdout (json events) ---\n${tail(this.events.map((e) => JSON.stringify(e)).join('\n'))}\n--- stdout (other) ---\n${tail(this.stdoutNoise.join('\n'))}\n--- stderr ---\n${tail(this.stderr)}`;
  }

  private notify(): void {
    for (const waiter of [...this.waiters]) waiter();
  }
}

/** Pattern ids as one node's status reports them. */
export function idsOf(status: ClusterMeshStatus): Set<string> {
  return new Set(status.agents.flatMap((agent) => agent.patternIds));
}

/** Every agent's set equals the union over all statuses: what is committed anywhere is everywhere. */
export function convergence(statuses: readonly ClusterMeshStatus[]): { union: Set<string>; missing: { agent: string; count: number; sample: string[] }[] } {
  const union = new Set(statuses.flatMap((s) => [...idsOf(s)]));
  const missing = statuses.flatMap((s) =>
    s.agents.flatMap((agent) => {
      const own = new Set(agent.patternIds);
      const lacking = [...union].filter((id) => !own.has(id));
      return lacking.length === 0 && own.size === union.size ? [] : [{ agent: agent.id, count: lacking.length, sample: lacking.slice(0, 3) }];
    }),
  );
  return { union, missing };
}

export class ClusterHarness {
  readonly root: string;
  readonly certificate: NodeCertificate;
  readonly processes: NodeProcess[] = [];
  private client: Node | undefined;
  private clientRuntime: Runtime | undefined;
  private readonly files: { secret: string; cert: string; key: string; config: string; hierarchical: string };

  private constructor(root: string, certificate: NodeCertificate) {
    this.root = root;
    this.certificate = certificate;
    this.files = {
      secret: path.join(root, 'secret'),
      cert: path.join(root, 'cluster-cert.pem'),
      key: path.join(root, 'cluster-key.pem'),
      config: path.join(root, 'mesh.json'),
      hierarchical: path.join(root, 'hierarchical.json'),
    };
    fs.writeFileSync(this.files.secret, `${SECRET}\n`, { mode: 0o600 });
    fs.writeFileSync(this.files.cert, certificate.certPem);
    fs.writeFileSync(this.files.key, certificate.keyPem, { mode: 0o600 });
    fs.writeFileSync(this.files.config, JSON.stringify({ topology: 'mesh', agentCount: 6, learningRate: 0.05, consensusThreshold: 0.66 }));
    fs.writeFileSync(
      this.files.hierarchical,
      JSON.stringify({ topology: 'hierarchical', leader: { learningRate: 0.005, memorySize: 5000 }, workers: { count: 3, learningRate: 0.05, memorySize: 2000 }, standby: true }),
    );
  }

  /** A temporary directory with the cluster secret, one cluster certificate (cert and key files) and the mesh config. */
  static async create(): Promise<ClusterHarness> {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'swarmbank-cluster-'));
    return new ClusterHarness(root, await generateCertificate());
  }

  /** Starts `swarmbank node --json` and waits (bounded) for its listening line. */
  async spawn(options: SpawnOptions, timeoutMs = 30_000): Promise<NodeProcess> {
    const dataDir = options.dataDir ?? path.join(this.root, `data-${options.id}`);
    const args = [
      'node',
      '--id', options.id,
      '--listen', `127.0.0.1:${options.port ?? 0}`,
      ...(options.peers !== undefined && options.peers.length > 0 ? ['--peers', options.peers.join(',')] : []),
      '--secret-file', this.files.secret,
      '--data', dataDir,
      ...(options.agents === undefined && options.role !== undefined ? [] : ['--agents', String(options.agents ?? 2)]),
      '--config', options.topology === 'hierarchical' ? this.files.hierarchical : this.files.config,
      ...(options.role === undefined ? [] : ['--role', options.role]),
      '--seed', '1',
      '--cert', this.files.cert,
      '--key', this.files.key,
      '--protocol', options.protocol ?? 'http2',
      ...FAST_FLAGS,
      '--json',
      ...(options.extra ?? []),
    ];
    const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
    const proc = new NodeProcess(options.id, child, `node --import tsx ${path.relative(process.cwd(), CLI)} ${args.join(' ')}`, dataDir, options);
    this.processes.push(proc);
    await proc.waitFor((e) => e.event === 'listening', 'listening line', timeoutMs);
    return proc;
  }

  /** Starts a node that has exited again: same id, port, peers and data directory. */
  respawn(proc: NodeProcess, timeoutMs = 30_000): Promise<NodeProcess> {
    if (proc.running) throw new Error(`node ${proc.id} is still running`);
    return this.spawn({ ...proc.options, port: proc.listening.port, dataDir: proc.dataDir }, timeoutMs);
  }

  /**
   * The test's own Node: client-only (it listens nowhere), same secret and
   * cluster certificate, dialling every address given; resolves when all of
   * `nodes` are up.
   */
  async connect(peers: readonly NodeProcess[], protocol: 'quic' | 'http2' = 'http2', timeoutMs = 15_000): Promise<Node> {
    if (this.client !== undefined) throw new Error('the client node is already started');
    this.clientRuntime = createRuntime({ name: 'test-client' });
    this.client = await startNode({
      id: 'test-client',
      runtime: this.clientRuntime,
      secret: SECRET,
      certificate: this.certificate,
      protocol,
      peers: peers.map((p) => p.address),
      heartbeatMs: 100,
      failureTimeoutMs: 8_000,
      reconnect: { minMs: 50, maxMs: 400 },
    });
    await Promise.all(peers.map((p) => this.client!.whenUp(p.id, timeoutMs)));
    return this.client;
  }

  get node(): Node {
    if (this.client === undefined) throw new Error('connect() first');
    return this.client;
  }

  control(node: string): ActorRef<ClusterControlMessage> {
    return this.node.ref<ClusterControlMessage>(node, CONTROL_PATH);
  }

  status(node: string, timeoutMs = 15_000): Promise<ClusterMeshStatus> {
    return named(ask(this.control(node), (replyTo: ActorRef<ClusterMeshStatus>) => ({ type: 'status', replyTo }), timeoutMs), `status of ${node}`);
  }

  train(node: string, episodes: number, timeoutMs = 60_000): Promise<ClusterMeshStatus> {
    return named(ask(this.control(node), (replyTo: ActorRef<ClusterMeshStatus>) => ({ type: 'train', episodes, replyTo }), timeoutMs), `train ${episodes} on ${node}`);
  }

  sync(node: string, timeoutMs = 20_000): Promise<number> {
    return named(ask(this.control(node), (replyTo: ActorRef<number>) => ({ type: 'sync', replyTo }), timeoutMs), `sync on ${node}`);
  }

  decide(node: string, features: Float32Array, timeoutMs = 20_000): Promise<ClusterDecision> {
    return named(ask(this.control(node), (replyTo: ActorRef<ClusterDecision>) => ({ type: 'decide', features, replyTo }), timeoutMs), `decide on ${node}`);
  }

  partition(node: string, from: readonly string[], timeoutMs = 10_000): Promise<true> {
    return named(ask(this.control(node), (replyTo: ActorRef<true>) => ({ type: 'partition', nodes: from, replyTo }), timeoutMs), `partition on ${node}`);
  }

  heal(node: string, timeoutMs = 10_000): Promise<true> {
    return named(ask(this.control(node), (replyTo: ActorRef<true>) => ({ type: 'heal', replyTo }), timeoutMs), `heal on ${node}`);
  }

  hierarchyStatus(node: string, timeoutMs = 15_000): Promise<ClusterHierarchyStatus> {
    const control = this.node.ref<HierarchyControlMessage>(node, HIERARCHY_CONTROL_PATH);
    return named(ask(control, (replyTo: ActorRef<ClusterHierarchyStatus>) => ({ type: 'status', replyTo }), timeoutMs), `hierarchy status of ${node}`);
  }

  hierarchyTrain(node: string, episodes: number, timeoutMs = 60_000): Promise<ClusterHierarchyStatus> {
    const control = this.node.ref<HierarchyControlMessage>(node, HIERARCHY_CONTROL_PATH);
    return named(ask(control, (replyTo: ActorRef<ClusterHierarchyStatus>) => ({ type: 'train', episodes, replyTo }), timeoutMs), `hierarchy train ${episodes} on ${node}`);
  }

  /** Polls a hierarchy node's status until `accept` takes it; bounded. */
  async hierarchyUntil(node: string, accept: (status: ClusterHierarchyStatus) => boolean, what: string, timeoutMs: number): Promise<ClusterHierarchyStatus> {
    const deadline = Date.now() + timeoutMs;
    let last: ClusterHierarchyStatus | undefined;
    let lastError: unknown;
    while (Date.now() < deadline) {
      try {
        last = await this.hierarchyStatus(node, Math.max(1_000, deadline - Date.now()));
        if (accept(last)) return last;
      } catch (error) {
        lastError = error;
      }
      await sleep(200);
    }
    const seen = last === undefined ? `no status (${lastError instanceof Error ? lastError.message : String(lastError)})` : JSON.stringify({ ...last, agents: last.agents.map((a) => `${a.id}:${a.patternIds.length}`) });
    throw new Error(`node ${node}: not ${what} within ${timeoutMs} ms; last: ${seen}`);
  }

  /** Polls `status` until `accept` takes it; bounded. Resolves with the accepted status. */
  async statusUntil(node: string, accept: (status: ClusterMeshStatus) => boolean, what: string, timeoutMs: number): Promise<ClusterMeshStatus> {
    const deadline = Date.now() + timeoutMs;
    let last: ClusterMeshStatus | undefined;
    let lastError: unknown;
    while (Date.now() < deadline) {
      try {
        last = await this.status(node, Math.max(1_000, deadline - Date.now()));
        if (accept(last)) return last;
      } catch (error) {
        lastError = error;
      }
      await sleep(200);
    }
    const seen = last === undefined ? `no status (${lastError instanceof Error ? lastError.message : String(lastError)})` : summarize(last);
    throw new Error(`node ${node}: not ${what} within ${timeoutMs} ms; last: ${seen}`);
  }

  /**
   * Syncs every node and reads every status, up to `rounds` times, until each
   * agent holds the union of all pattern ids. Resolves with the statuses and
   * the rounds it took (1 when a single sync sufficed).
   */
  async converge(nodes: readonly string[], rounds = 3): Promise<{ statuses: ClusterMeshStatus[]; rounds: number; moved: number[][] }> {
    const moved: number[][] = [];
    let statuses: ClusterMeshStatus[] = [];
    for (let round = 1; round <= rounds; round++) {
      moved.push(await Promise.all(nodes.map((n) => this.sync(n))));
      statuses = await Promise.all(nodes.map((n) => this.status(n)));
      if (convergence(statuses).missing.length === 0) return { statuses, rounds: round, moved };
    }
    return { statuses, rounds: rounds + 1, moved };
  }

  /** Kills every child (SIGTERM, then SIGKILL after `graceMs`), stops the client, removes the directory. Reports how each child ended. */
  async close(graceMs = 3_000): Promise<{ id: string; code: number | null; signal: NodeJS.Signals | null; forced: boolean; stopped: boolean }[]> {
    const stopping = this.client?.stop().catch(() => undefined);
    const ends = await Promise.all(
      this.processes.map(async (p) => {
        const wasRunning = p.running;
        const end = await p.stop(graceMs);
        return { id: p.id, ...end, stopped: wasRunning ? p.eventsOf('stopped').length > 0 : true };
      }),
    );
    await stopping;
    await this.clientRuntime?.stop().catch(() => undefined);
    fs.rmSync(this.root, { recursive: true, force: true });
    return ends;
  }
}

export function summarize(status: ClusterMeshStatus): string {
  return JSON.stringify({
    node: status.node,
    episodes: status.episodes,
    reachableAgents: status.reachableAgents,
    quorum: status.quorum,
    members: status.members,
    patterns: status.agents.map((a) => `${a.id}:${a.patternIds.length}${a.live ? '' : '(down)'}`),
  });
}

async function named<T>(promise: Promise<T>, what: string): Promise<T> {
  try {
    return await promise;
  } catch (error) {
    throw new Error(`${what}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
}
