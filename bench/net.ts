import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { type TLSSocket, connect as tlsConnect, createServer as createTlsServer } from 'node:tls';
import { generateCertificate } from '../src/net/certificate.js';
import { FrameDecoder, FrameWriter } from '../src/net/frames.js';
import type { FrameChannel } from '../src/net/transport.js';
import { webTransport } from '../src/net/webtransport.js';

/**
 * Transport floor: one-way messages/s and round-trip latency over
 * WebTransport (HTTP/3 if the native transport loads, HTTP/2 otherwise)
 * beside a plain node:tls socket echo carrying the same frames, measured in
 * the same run. Both sides use the same FrameWriter (coalescing) and
 * FrameDecoder, so the difference is the transport.
 */

const ONE_WAY = 100_000;
const ROUND_TRIPS = 5_000;
const WARMUP = 500;
/** About 212 bytes once framed, like the measurement in issue 7. */
const PAYLOAD = { kind: 'pattern', origin: 'node-a/agent-1', version: 7, body: 'x'.repeat(160) };

interface Side {
  readonly name: string;
  /** Sends `n` messages one way; resolves when the peer has counted them all. */
  oneWay(n: number): Promise<void>;
  /** One message there and back. */
  roundTrip(): Promise<void>;
  close(): Promise<void>;
}

export async function run(args: readonly string[]): Promise<void> {
  const json = args.includes('--json');
  const rows = [];
  for (const make of [webTransportSide, tlsSide]) {
    const side = await make();
    try {
      await side.oneWay(WARMUP);
      for (let i = 0; i < WARMUP; i++) await side.roundTrip();
      const started = performance.now();
      await side.oneWay(ONE_WAY);
      const seconds = (performance.now() - started) / 1000;
      const latencies: number[] = [];
      for (let i = 0; i < ROUND_TRIPS; i++) {
        const t = performance.now();
        await side.roundTrip();
        latencies.push((performance.now() - t) * 1000);
      }
      latencies.sort((a, b) => a - b);
      const row = {
        transport: side.name,
        messagesPerSec: ONE_WAY / seconds,
        p50Us: percentile(latencies, 0.5),
        p99Us: percentile(latencies, 0.99),
      };
      rows.push(row);
      if (!json) {
        console.log(
          `${row.transport.padEnd(20)} ${Math.round(row.messagesPerSec).toString().padStart(8)} msgs/s one-way  ` +
            `round trip p50 ${row.p50Us.toFixed(0).padStart(5)} µs  p99 ${row.p99Us.toFixed(0).padStart(6)} µs`,
        );
      }
    } finally {
      await side.close();
    }
  }
  const [wt, tls] = rows;
  if (wt && tls && !json) console.log(`WebTransport one-way throughput: ${(wt.messagesPerSec / tls.messagesPerSec).toFixed(2)}× plain TLS`);
  console.log(JSON.stringify({ suite: 'net', oneWay: ONE_WAY, roundTrips: ROUND_TRIPS, rows }));
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

async function webTransportSide(): Promise<Side> {
  const certificate = await generateCertificate();
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
  const session = await webTransport().connect(`https://127.0.0.1:${listener.address.port}/swarmbank`, {
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
  return {
    name: listener.protocol,
    oneWay: side.oneWay,
    roundTrip: side.roundTrip,
    async close() {
      session.close();
      await listener.close();
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

async function tlsSide(): Promise<Side> {
  const certificate = await generateCertificate();
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
  const socket = tlsConnect({ host: '127.0.0.1', port, ca: certificate.certPem });
  await once(socket, 'secureConnect');
  socket.setNoDelay(true);
  let side: ReturnType<typeof client> | undefined = undefined;
  const writer = socketFrames(socket, () => side?.onMessage());
  side = client((m) => writer.send(m), () => writer.flush());
  return {
    name: 'tls (floor)',
    oneWay: side.oneWay,
    roundTrip: side.roundTrip,
    async close() {
      socket.destroy();
      server.close();
      await once(server, 'close');
    },
  };
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? Number.NaN;
}
