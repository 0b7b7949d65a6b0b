import fs from 'node:fs';
import { Command, InvalidArgumentError } from 'commander';
import type { ClusterEvent } from '../actors/events.js';
import { loadCertificate, type NodeCertificate } from '../net/certificate.js';
import { clusterSecret } from '../net/handshake.js';
import { MAX_TIMER_MS, NodeConfigError, parsePeer } from '../net/node.js';
import { ClusterHierarchicalDeployment, type HierarchyNodeRole } from '../topologies/cluster-hierarchy.js';
import { ClusterMeshDeployment, type ClusterMeshOptions } from '../topologies/cluster-mesh.js';
import { parseDeploymentConfig, type HierarchicalConfig, type MeshConfig } from '../topologies/config.js';
import { nonNegativeInteger, positiveInteger, seed } from './arguments.js';
import { ConfigFileError, readConfigFile } from './config-file.js';
import { cliLogger } from './logger.js';

export interface NodeCommandOptions {
  readonly write?: (text: string) => void;
  /** Resolves when the node should stop; default: the first SIGINT or SIGTERM. */
  readonly until?: () => Promise<string>;
}

interface Flags {
  readonly id: string;
  readonly listen: { readonly host: string; readonly port: number };
  readonly peers: readonly string[];
  readonly secretFile: string;
  readonly data: string;
  readonly agents?: number;
  readonly role?: HierarchyNodeRole;
  readonly aggregationInterval: number;
  readonly config?: string;
  readonly seed: number;
  readonly episodes: number;
  readonly cert?: string;
  readonly key?: string;
  readonly protocol?: 'quic' | 'http2';
  readonly antiEntropyMs: number;
  readonly heartbeatMs: number;
  readonly failureTimeoutMs: number;
  readonly json?: boolean;
  readonly verbose?: boolean;
}

/**
 * `swarmbank node`: one node of a mesh or a hierarchy spread over processes
 * and machines. It hosts `--agents` of the config's agents (a hierarchy's
 * node also its `--role`: the leader, the standby, or workers only),
 * listens for peers, dials `--peers`, trains `--episodes` rounds if asked,
 * and then serves — syncing, voting or aggregating, answering control
 * messages at `/mesh/control` or `/hierarchical/control` — until Ctrl-C (or
 * SIGTERM), when it says bye to its peers, closes its sessions and flushes
 * its memories to disk.
 */
export function nodeCommand(options: NodeCommandOptions = {}): Command {
  const write = options.write ?? ((text: string) => process.stdout.write(text));
  return new Command('node')
    .description('Start a network node hosting part of a mesh or a hierarchy; Ctrl-C stops it cleanly.')
    .requiredOption('--id <id>', "this node's id, unique in the cluster")
    .requiredOption('--listen <host:port>', 'where to accept peers (port 0: any free port)', listenAddress)
    .option('--peers <list>', 'peers to dial: host:port[#sha-256 of its certificate], comma-separated', (value: string) => value.split(',').map((p) => p.trim()).filter((p) => p !== ''), [])
    .requiredOption('--secret-file <file>', 'file holding the cluster secret (at least 16 bytes)')
    .requiredOption('--data <dir>', 'where this node keeps its agents’ memories and journals')
    .option('--agents <n>', 'agents (a hierarchy: workers) hosted on this node; default 2, or 0 on a hierarchy\'s leader or standby', nonNegativeInteger)
    .option('--config <file.json>', 'the mesh or hierarchical config as the reference writes it; counts are the whole cluster\'s (default: the reference mesh)')
    .option('--role <leader|standby|worker>', 'a hierarchy only: what this node hosts besides its workers', role)
    .option('--aggregation-interval <n>', 'a hierarchy only: episodes between aggregations', positiveInteger, 1)
    .option('--seed <n>', 'seed of the market and of every random choice', seed, 1)
    .option('--episodes <n>', 'training rounds to run right after starting (0: wait for control messages)', nonNegativeInteger, 0)
    .option('--cert <file.pem>', 'the TLS certificate (shared by the cluster, peers pin its hash); default: a fresh self-signed one')
    .option('--key <file.pem>', 'the private key of --cert')
    .option('--protocol <quic|http2>', "'quic' asks for HTTP/3 and falls back to HTTP/2; default from the config's syncProtocol", protocol)
    .option('--anti-entropy-ms <ms>', 'a mesh: how often every agent pulls what it lacks from every reachable agent (0: only on commits and joins); a hierarchy: how often a standby checks for a leader to hand back to', atMostTimer(nonNegativeInteger), 2_000)
    .option('--heartbeat-ms <ms>', 'heartbeat period', atMostTimer(positiveInteger), 500)
    .option('--failure-timeout-ms <ms>', 'a peer silent this long is unreachable', atMostTimer(positiveInteger), 10_000)
    .option('--json', 'print events as JSON lines')
    .option('--verbose', 'log debug records (failed dials, syncs) on standard error')
    .addHelpText(
      'after',
      '\nExamples:\n  # two mesh nodes sharing a secret file and a certificate\n  swarmbank node --id a --listen 127.0.0.1:4433 --secret-file secret --data ./node-a --cert c.pem --key k.pem\n  swarmbank node --id b --listen 127.0.0.1:4434 --peers 127.0.0.1:4433 --secret-file secret --data ./node-b --cert c.pem --key k.pem\n  # a hierarchy: the leader, and a node of workers\n  swarmbank node --id lead --role leader --config hierarchical.json --listen 127.0.0.1:4433 --secret-file secret --data ./lead --cert c.pem --key k.pem\n  swarmbank node --id w1 --role worker --agents 2 --config hierarchical.json --listen 127.0.0.1:4434 --peers 127.0.0.1:4433 --secret-file secret --data ./w1 --cert c.pem --key k.pem',
    )
    .action(async (flags: Flags) => {
      const say = (event: string, fields: Record<string, unknown>, text: string) =>
        write(flags.json === true ? `${JSON.stringify({ event, ...fields })}\n` : `${text}\n`);
      const config = clusterConfig(flags.config);
      if (config.topology === 'hierarchical' && flags.role === undefined) throw new NodeConfigError('role', 'a hierarchy\'s node needs --role leader, standby or worker');
      if (config.topology === 'mesh' && flags.role !== undefined) throw new NodeConfigError('role', '--role is for a hierarchy\'s nodes; a mesh has none');
      const secret = clusterSecret(readSecret(flags.secretFile));
      const certificate = readCertificate(flags);
      const logger = cliLogger(flags.verbose === true);
      const common = {
        seed: flags.seed,
        dataDir: flags.data,
        maxEpisodes: Math.max(200, flags.episodes),
        node: {
          id: flags.id,
          secret,
          listen: flags.listen,
          peers: flags.peers,
          heartbeatMs: flags.heartbeatMs,
          failureTimeoutMs: flags.failureTimeoutMs,
          logger,
          ...(certificate === undefined ? {} : { certificate }),
          ...(flags.protocol === undefined ? {} : { protocol: flags.protocol }),
        },
      } satisfies Omit<ClusterMeshOptions, 'localAgents'>;
      const mesh =
        config.topology === 'mesh'
          ? await ClusterMeshDeployment.start(config, { ...common, localAgents: flags.agents ?? 2, antiEntropyMs: flags.antiEntropyMs })
          : await ClusterHierarchicalDeployment.start(config, {
              ...common,
              role: flags.role ?? 'worker',
              localWorkers: flags.agents ?? (flags.role === 'worker' ? 2 : 0),
              aggregationInterval: flags.aggregationInterval,
              checkMs: flags.antiEntropyMs,
            });
      const { node } = mesh;
      const unsubscribe = node.runtime.events.subscribe((event) => {
        if (isClusterEvent(event)) say(event.type, { ...event }, describe(event));
      });
      const stopEpisodes = mesh.events.on('episode', (e) => say('episode', { episode: e.episode, accuracy: e.accuracy }, `episode ${e.episode} accuracy ${(e.accuracy * 100).toFixed(1)}%`));
      const hash = Buffer.from(node.certificate.hash).toString('hex');
      say(
        'listening',
        { node: node.id, host: node.address?.host, port: node.address?.port, protocol: node.protocol, certificateHash: hash, incarnation: node.incarnation },
        `node ${node.id} listening on ${node.address?.host}:${node.address?.port} (${node.protocol}); certificate sha-256 ${hash}`,
      );
      let stopping = false;
      const stop = (options.until ?? untilSignal)().then((signal) => {
        stopping = true;
        return signal;
      });
      try {
        if (flags.episodes > 0) {
          const joined = await Promise.race([peersUp(() => (stopping ? Number.POSITIVE_INFINITY : node.up().length), flags.peers.length, PEER_WAIT_MS), stop.then(() => false)]);
          if (!joined) logger.warn({ up: node.up(), peers: flags.peers }, `not every peer was up within ${PEER_WAIT_MS / 1000} s: training anyway`);
          const trained = await Promise.race([mesh.run({ episodes: flags.episodes }).then(() => true), stop.then(() => false)]);
          if (trained) say('trained', { episodes: flags.episodes }, `trained ${flags.episodes} episodes; serving until Ctrl-C`);
        }
        const signal = await stop;
        logger.info({ signal }, 'stopping');
      } finally {
        stopEpisodes();
        await mesh.stop();
        unsubscribe();
      }
      say('stopped', { node: node.id }, `node ${node.id} stopped`);
    });
}

/** How long `--episodes` waits for the peers before training without them. */
const PEER_WAIT_MS = 30_000;

/** Polls until `up()` reaches `peers` (a stopping node reports infinity, to end the wait) or the time is out. */
async function peersUp(up: () => number, peers: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (up() < peers) {
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return true;
}

function untilSignal(): Promise<string> {
  return new Promise((resolve) => {
    const on = (signal: NodeJS.Signals) => {
      process.off('SIGINT', on);
      process.off('SIGTERM', on);
      resolve(signal);
    };
    process.on('SIGINT', on);
    process.on('SIGTERM', on);
  });
}

function isClusterEvent(event: { readonly type: string }): event is ClusterEvent {
  return event.type === 'member-up' || event.type === 'member-down' || event.type === 'member-unreachable' || event.type === 'peer-refused';
}

function describe(event: ClusterEvent): string {
  switch (event.type) {
    case 'member-up':
      return `member ${event.node} up (${event.address}, ${event.protocol})`;
    case 'member-down':
      return `member ${event.node} down: ${event.reason}`;
    case 'member-unreachable':
      return `member ${event.node} unreachable: silent ${Math.round(event.silentMs)} ms`;
    case 'peer-refused':
      return `refused ${event.node ?? event.address}: ${event.reason}`;
  }
}

function clusterConfig(file: string | undefined): MeshConfig | HierarchicalConfig {
  const raw = file === undefined ? { topology: 'mesh' } : readConfigFile(file);
  if (raw['topology'] !== 'mesh' && raw['topology'] !== 'hierarchical') {
    throw new ConfigFileError(file ?? '', `has topology ${JSON.stringify(raw['topology'])}, but a node runs a mesh or a hierarchy`);
  }
  return parseDeploymentConfig(raw) as MeshConfig | HierarchicalConfig;
}

function role(value: string): HierarchyNodeRole {
  if (value !== 'leader' && value !== 'standby' && value !== 'worker') throw new InvalidArgumentError(`expected leader, standby or worker, got "${value}"`);
  return value;
}

function readSecret(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigFileError(file, `cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
}

function readCertificate(flags: Flags): NodeCertificate | undefined {
  if ((flags.cert === undefined) !== (flags.key === undefined)) throw new NodeConfigError(flags.cert === undefined ? 'cert' : 'key', '--cert and --key go together');
  if (flags.cert === undefined || flags.key === undefined) return undefined;
  const read = (file: string) => {
    try {
      return fs.readFileSync(file, 'utf8');
    } catch (error) {
      throw new ConfigFileError(file, `cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
    }
  };
  return loadCertificate(read(flags.cert), read(flags.key));
}

function listenAddress(value: string): { host: string; port: number } {
  // Port 0 (any free port) is for listening only, so it is parsed as port 1 and put back.
  const anyPort = /:0$/.test(value.trim());
  try {
    const { host, port } = parsePeer(anyPort ? value.trim().replace(/:0$/, ':1') : value, 'listen');
    return { host, port: anyPort ? 0 : port };
  } catch (error) {
    throw new InvalidArgumentError(error instanceof Error ? error.message : String(error));
  }
}

/** `parse`, refusing more than a timer can wait: Node turns a longer delay into 1 ms, and the node would spin. */
function atMostTimer(parse: (value: string) => number): (value: string) => number {
  return (value) => {
    const ms = parse(value);
    if (ms > MAX_TIMER_MS) throw new InvalidArgumentError(`expected at most ${MAX_TIMER_MS} ms (about 24.8 days), got "${value}"`);
    return ms;
  };
}

function protocol(value: string): 'quic' | 'http2' {
  if (value !== 'quic' && value !== 'http2') throw new InvalidArgumentError(`expected quic or http2, got "${value}"`);
  return value;
}
