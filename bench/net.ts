import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { availableParallelism, loadavg } from 'node:os';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { type TLSSocket, connect as tlsConnect, createServer as createTlsServer } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { ask, dispatch } from '../src/actors/ask.js';
import { stateless } from '../src/actors/behaviour.js';
import type { ActorRef } from '../src/actors/ref.js';
import { createRuntime } from '../src/actors/runtime.js';
import { generateCertificate, type NodeCertificate } from '../src/net/certificate.js';
import { FrameDecoder, FrameWriter } from '../src/net/frames.js';
import type { FrameChannel } from '../src/net/transport.js';
import { startNode, type NodeLimits } from '../src/net/node.js';
import { webTransport } from '../src/net/webtransport.js';

/**
 * Transport floor and node path, measured in one run:
 * - raw transports, both ends in this process: one-way messages/s and round
 *   trips over WebTransport (HTTP/3 if the native transport loads, HTTP/2
 *   otherwise) beside a plain node:tls socket echo carrying the same frames.
 *   Both use the same FrameWriter (coalescing) and FrameDecoder, so the
 *   difference is the transport.
 * - nodes, across processes: node A in this process, node B in a child
 *   process (`fork` of this file under tsx), on loopback. `ask` round trips
 *   to an echo actor on B, and one-way `dispatch` of small messages to a
 *   counting actor on B, timed until it has counted them all. The child also
 *   serves a plain TLS echo, the floor the node path is held to (issue 7:
 *   one-way ≥ 0.5× the TLS echo's).
 * Every measurement is repeated for several rounds (`--rounds N`, default 5),
 * interleaved across the rows so that a noisy neighbour hurts them alike;
 * medians are printed, and the node/TLS ratio is the median of per-round
 * ratios. `--json` prints only the JSON line.
 */

const ONE_WAY = 100_000;
/** Round trips per round for the raw transports, and asks per round for the nodes. */
const ROUND_TRIPS = 5_000;
const ASKS = 2_000;
const ROUNDS = 5;
const WARMUP_ONE_WAY = 10_000;
const WARMUP_ROUND_TRIPS = 500;
/** About 212 bytes once framed, like the measurement in issue 7. */
const PAYLOAD = { kind: 'pattern', origin: 'node-a/agent-1', version: 7, body: 'x'.repeat(160) };
const PEER_ENV = 'SWARMBANK_BENCH_NET_PEER';
const SECRET = 'bench-net-cluster-secret';
/** Limits raised so that the bench measures the path, not the rate limiter or the outbox bound. */
const NODE_LIMITS: Partial<NodeLimits> = { maxOutbox: 1_000_000, maxMessagesPerSecond: 10_000_000 };

type Payload = typeof PAYLOAD;
type CounterMsg = Payload | { readonly expect: number; readonly replyTo: ActorRef<number> };
interface EchoMsg {
  readonly body: string;
  readonly replyTo: ActorRef<string>;
}

interface Side {
  readonly name: string;
  readonly placement: 'in-process' | 'across processes';
  /** Round trips (or asks) per round. */
  readonly roundTrips: number;
  /** Sends `n` messages one way; resolves when the peer has counted them all. */
  oneWay(n: number): Promise<void>;
  /** One message there and back. */
  roundTrip(): Promise<void>;
  close(): Promise<void>;
}

interface Samples {
  readonly messagesPerSec: number[];
  readonly p50Us: number[];
  readonly p99Us: number[];
}

export async function run(args: readonly string[]): Promise<void> {
  const json = args.includes('--json');
  const roundsArg = args.indexOf('--rounds');
  const rounds = roundsArg >= 0 ? Math.max(1, Number(args[roundsArg + 1]) || ROUNDS) : ROUNDS;
  const started = performance.now();
  if (!json) {
    console.log(
      `net: ${rounds} rounds of ${ONE_WAY.toLocaleString('en')} one-way messages and ${ROUND_TRIPS.toLocaleString('en')} round trips ` +
        `(${ASKS.toLocaleString('en')} asks for nodes); medians over rounds; ${availableParallelism()} cores, load ${loadavg()[0]!.toFixed(1)}`,
    );
    console.log('in-process rows: both ends in this process; across processes: node A and the clients here, node B and the echo servers in a child process (fork, tsx); loopback');
  }
  const certificate = await generateCertificate();
  const child = await startPeerProcess(certificate);
  const sides: Side[] = [];
  try {
    sides.push(await webTransportSide(certificate), await tlsSide(certificate));
    const nothing = async () => undefined;
    sides.push(await tlsClientSide('tls echo (floor)', 'across processes', child.tlsPort, certificate, nothing));
    sides.push(await webTransportClientSide(child.webTransportProtocol, 'across processes', child.webTransportPort, certificate, nothing));
    sides.push(await nodeSide(certificate, child.nodePort));
    for (const side of sides) {
      await side.oneWay(WARMUP_ONE_WAY);
      for (let i = 0; i < WARMUP_ROUND_TRIPS; i++) await side.roundTrip();
    }
    const samples = new Map<Side, Samples>(sides.map((side) => [side, { messagesPerSec: [], p50Us: [], p99Us: [] }]));
    for (let round = 0; round < rounds; round++) {
      for (const side of sides) {
        const sample = samples.get(side)!;
        const t = performance.now();
        await side.oneWay(ONE_WAY);
        sample.messagesPerSec.push(ONE_WAY / ((performance.now() - t) / 1000));
        const latencies: number[] = [];
        for (let i = 0; i < side.roundTrips; i++) {
          const t0 = performance.now();
          await side.roundTrip();
          latencies.push((performance.now() - t0) * 1000);
        }
        latencies.sort((a, b) => a - b);
        sample.p50Us.push(percentile(latencies, 0.5));
        sample.p99Us.push(percentile(latencies, 0.99));
      }
    }
    const rows = sides.map((side) => {
      const sample = samples.get(side)!;
      return {
        transport: side.name,
        placement: side.placement,
        messagesPerSec: median(sample.messagesPerSec),
        messagesPerSecRange: [Math.min(...sample.messagesPerSec), Math.max(...sample.messagesPerSec)],
        p50Us: median(sample.p50Us),
        p99Us: median(sample.p99Us),
      };
    });
    /** Per-round ratios of one-way throughput, then their median: a paired comparison, steadier under noise than a ratio of medians. */
    const ratio = (a: Side | undefined, b: Side | undefined) =>
      a && b ? median(samples.get(a)!.messagesPerSec.map((value, i) => value / samples.get(b)!.messagesPerSec[i]!)) : Number.NaN;
    const [wt, tls, tlsFloor, wtFloor, node] = sides;
    const ratios = { webTransportVsTls: ratio(wt, tls), nodeVsTls: ratio(node, tlsFloor), nodeVsWebTransport: ratio(node, wtFloor) };
    const seconds = (performance.now() - started) / 1000;
    if (!json) {
      for (const row of rows) {
        console.log(
          `${row.transport.padEnd(24)} ${row.placement.padEnd(16)} ${Math.round(row.messagesPerSec).toString().padStart(8)} msgs/s one-way ` +
            `(${Math.round(row.messagesPerSecRange[0]!)}–${Math.round(row.messagesPerSecRange[1]!)})  ` +
            `round trip p50 ${row.p50Us.toFixed(0).padStart(5)} µs  p99 ${row.p99Us.toFixed(0).padStart(6)} µs`,
        );
      }
      console.log(`WebTransport one-way throughput: ${ratios.webTransportVsTls.toFixed(2)}× plain TLS (in-process)`);
      console.log(
        `node one-way throughput: ${ratios.nodeVsTls.toFixed(2)}× plain TLS echo (across processes; target ≥ 0.5×), ` +
          `${ratios.nodeVsWebTransport.toFixed(2)}× raw WebTransport (across processes)`,
      );
      console.log(`(${seconds.toFixed(0)} s)`);
    }
    console.log(
      JSON.stringify({ suite: 'net', oneWay: ONE_WAY, roundTrips: ROUND_TRIPS, asks: ASKS, rounds, rows, ratios, seconds: Math.round(seconds) }),
    );
  } finally {
    for (const side of sides) await side.close().catch(() => undefined);
    await child.stop();
  }
}

/**
 * The peer answers a { rt } message with itself and counts everything else,
 * answering { count } once it has seen the number it was told to expect.
 */
function peer(send: (message: unknown) => Promise<void>) {
  let expected = 0;
  let seen = 0;
  return async (message: unknown) => {
    const m = message as { rt?: true; expect?: number };
    if (m.rt) return send(m);
    if (m.expect !== undefined) {
      expected = m.expect;
      seen = 0;
      return;
    }
    seen++;
    if (seen === expected) await send({ done: seen });
  };
}

function client(send: (message: unknown) => Promise<void>, flush: () => Promise<void>) {
  let waiting: (() => void) | undefined;
  return {
    onMessage() {
      const resolve = waiting;
      waiting = undefined;
      resolve?.();
    },
    async oneWay(n: number) {
      const done = new Promise<void>((resolve) => (waiting = resolve));
      await send({ expect: n });
      for (let i = 0; i < n; i++) await send(PAYLOAD);
      await flush();
      await done;
    },
    async roundTrip() {
      const back = new Promise<void>((resolve) => (waiting = resolve));
      await send({ rt: true, body: PAYLOAD.body });
      await back;
    },
  };
}

/** A WebTransport echo server speaking the same frames as the TLS one. */
async function webTransportServer(certificate: NodeCertificate) {
  const listener = await webTransport({ certificate }).listen('127.0.0.1', 0);
  void (async () => {
    for await (const session of listener.sessions()) {
      void (async () => {
        for await (const channel of session.incomingChannels()) void serve(channel);
      })();
    }
  })();
  async function serve(channel: FrameChannel) {
    const handle = peer((m) => channel.send(m));
    try {
      for await (const message of channel.messages()) await handle(message);
    } catch {
      // Closed at the end of the run.
    }
  }
  return { port: listener.address.port, protocol: listener.protocol, close: () => listener.close() };
}

async function webTransportSide(certificate: NodeCertificate): Promise<Side> {
  const server = await webTransportServer(certificate);
  return webTransportClientSide(server.protocol, 'in-process', server.port, certificate, server.close);
}

async function webTransportClientSide(
  name: string,
  placement: Side['placement'],
  port: number,
  certificate: NodeCertificate,
  closeServer: () => Promise<void>,
): Promise<Side> {
  const session = await webTransport().connect(`https://127.0.0.1:${port}/swarmbank`, {
    serverCertificateHashes: [certificate.hash],
  });
  const channel = await session.openChannel();
  const side = client((m) => channel.send(m), () => channel.flush());
  void (async () => {
    try {
      for await (const _ of channel.messages()) side.onMessage();
    } catch {
      // Closed at the end of the run.
    }
  })();
  return clientSide(name, placement, side, () => session.close(), closeServer);
}

/** A framed client's side of a run: its messages, then closing the client before the server. */
function clientSide(
  name: string,
  placement: Side['placement'],
  side: ReturnType<typeof client>,
  closeClient: () => void,
  closeServer: () => Promise<void>,
): Side {
  return {
    name,
    placement,
    roundTrips: ROUND_TRIPS,
    oneWay: side.oneWay,
    roundTrip: side.roundTrip,
    async close() {
      closeClient();
      await closeServer();
    },
  };
}

function socketFrames(socket: TLSSocket, onMessage: (message: unknown) => void | Promise<void>) {
  const writer = new FrameWriter(async (bytes) => {
    if (!socket.write(bytes)) await once(socket, 'drain');
  });
  const decoder = new FrameDecoder();
  let chain = Promise.resolve();
  socket.on('data', (chunk: Buffer) => {
    for (const message of decoder.push(chunk)) chain = chain.then(() => onMessage(message));
  });
  return writer;
}

/** A TLS echo server speaking the same frames as the WebTransport one. */
async function tlsServer(certificate: NodeCertificate) {
  const server = createTlsServer({ cert: certificate.certPem, key: certificate.keyPem }, (socket) => {
    socket.setNoDelay(true);
    let writer: FrameWriter | undefined = undefined;
    const handle = peer((m) => writer!.send(m));
    writer = socketFrames(socket, handle);
    socket.on('error', () => undefined);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    port,
    async close() {
      server.close();
      await once(server, 'close');
    },
  };
}

async function tlsSide(certificate: NodeCertificate): Promise<Side> {
  const server = await tlsServer(certificate);
  return tlsClientSide('tls (floor)', 'in-process', server.port, certificate, server.close);
}

async function tlsClientSide(
  name: string,
  placement: Side['placement'],
  port: number,
  certificate: NodeCertificate,
  closeServer: () => Promise<void>,
): Promise<Side> {
  const socket = tlsConnect({ host: '127.0.0.1', port, ca: certificate.certPem });
  await once(socket, 'secureConnect');
  socket.setNoDelay(true);
  let side: ReturnType<typeof client> | undefined = undefined;
  const writer = socketFrames(socket, () => side?.onMessage());
  side = client((m) => writer.send(m), () => writer.flush());
  return clientSide(name, placement, side, () => socket.destroy(), closeServer);
}

/** Node A, here, dialling node B in the child process: asks to its echo actor, one-way dispatches to its counter. */
async function nodeSide(certificate: NodeCertificate, port: number): Promise<Side> {
  const runtime = createRuntime({ name: 'bench-a' });
  const node = await startNode({
    id: 'bench-a',
    runtime,
    secret: SECRET,
    certificate,
    peers: [{ host: '127.0.0.1', port, certificateHash: certificate.hash }],
    limits: NODE_LIMITS,
  });
  await node.whenUp('bench-b');
  const counter = node.ref<CounterMsg>('bench-b', '/counter');
  const echo = node.ref<EchoMsg>('bench-b', '/echo');
  return {
    name: `node ${node.members()[0]?.protocol ?? ''}`.trim(),
    placement: 'across processes',
    roundTrips: ASKS,
    async oneWay(n) {
      const counted = ask(counter, (replyTo: ActorRef<number>) => ({ expect: n, replyTo }), 120_000);
      for (let i = 0; i < n; i++) dispatch(counter, PAYLOAD);
      await counted;
    },
    async roundTrip() {
      await ask(echo, (replyTo) => ({ body: PAYLOAD.body, replyTo }), 10_000);
    },
    async close() {
      await node.stop();
      await runtime.stop();
    },
  };
}

interface PeerPorts {
  readonly nodePort: number;
  readonly tlsPort: number;
  readonly webTransportPort: number;
  readonly webTransportProtocol: string;
}

/** Forks this file (under the same loader, tsx) as node B plus a TLS echo; `stop` ends it. */
async function startPeerProcess(certificate: NodeCertificate): Promise<PeerPorts & { stop(): Promise<void> }> {
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), [], {
    env: { ...process.env, [PEER_ENV]: '1' },
    serialization: 'advanced',
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = once(child, 'exit');
  const ports = await new Promise<PeerPorts>((resolve, reject) => {
    child.once('message', (message) => resolve(message as PeerPorts));
    child.once('exit', (code) => reject(new Error(`bench peer process exited (${code}) before it was ready`)));
    child.send({ certificate });
  });
  return {
    ...ports,
    async stop() {
      // The child exits at once: B's graceful stop is not what this bench measures.
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

/** The child: node B with a counter and an echo actor, and a TLS echo server; reports its ports and waits to be killed. */
async function servePeerProcess(): Promise<void> {
  process.on('disconnect', () => process.exit(0));
  const { certificate } = await new Promise<{ certificate: NodeCertificate }>((resolve) =>
    process.once('message', (message) => resolve(message as { certificate: NodeCertificate })),
  );
  const runtime = createRuntime({ name: 'bench-b' });
  let expected = 0;
  let seen = 0;
  let notify: ActorRef<number> | undefined;
  runtime.spawn(
    runtime.root,
    stateless<CounterMsg>((message) => {
      if ('expect' in message) {
        expected = message.expect;
        seen = 0;
        notify = message.replyTo;
      } else if (++seen === expected && notify !== undefined) {
        dispatch(notify, seen);
      }
    }),
    { name: 'counter' },
  );
  runtime.spawn(runtime.root, stateless<EchoMsg>((message) => dispatch(message.replyTo, message.body)), { name: 'echo' });
  const node = await startNode({ id: 'bench-b', runtime, secret: SECRET, certificate, listen: { host: '127.0.0.1', port: 0 }, limits: NODE_LIMITS });
  const tls = await tlsServer(certificate);
  const wt = await webTransportServer(certificate);
  process.send!({ nodePort: node.address!.port, tlsPort: tls.port, webTransportPort: wt.port, webTransportProtocol: wt.protocol } satisfies PeerPorts);
}

if (process.env[PEER_ENV] === '1') await servePeerProcess();

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? Number.NaN;
}
