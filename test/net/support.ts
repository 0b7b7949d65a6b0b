import { afterEach, beforeAll } from 'vitest';
import { createRuntime, type Runtime } from '../../src/index.js';
import { type NodeCertificate, generateCertificate } from '../../src/net/certificate.js';
import { type Node, type NodeOptions, startNode } from '../../src/net/node.js';
import type { TransportSession } from '../../src/net/transport.js';

export const SECRET = 'a-cluster-secret-for-tests';

export interface NodeFixture {
  /** One cluster certificate for the file: every node pins its own hash, so peers need no per-peer pins. */
  readonly certificate: NodeCertificate;
  runtime(name: string): Runtime;
  /** A node on 127.0.0.1 (any free port) over WebTransport/HTTP-2, with the file's defaults under `options`. */
  node(id: string, options?: Partial<NodeOptions>): Promise<Node>;
  /** Keeps a node started by hand, or a raw session, to be closed after the test. */
  track<T extends Node | TransportSession>(started: T): T;
}

/**
 * Real nodes for one test file: every node, runtime and raw session it
 * makes is closed after each test, so tests leave nothing running.
 */
export function useNodes(defaults: Partial<NodeOptions>): NodeFixture {
  let certificate: NodeCertificate | undefined;
  const nodes: Node[] = [];
  const runtimes: Runtime[] = [];
  const sessions: TransportSession[] = [];

  beforeAll(async () => {
    certificate = await generateCertificate();
  });

  afterEach(async () => {
    for (const session of sessions.splice(0)) session.close();
    await Promise.all(nodes.splice(0).map((node) => node.stop()));
    await Promise.all(runtimes.splice(0).map((runtime) => runtime.stop()));
  });

  const fixture: NodeFixture = {
    get certificate() {
      if (certificate === undefined) throw new Error('the cluster certificate is made in beforeAll');
      return certificate;
    },
    runtime(name) {
      const created = createRuntime({ name });
      runtimes.push(created);
      return created;
    },
    async node(id, options = {}) {
      const started = await startNode({
        id,
        runtime: options.runtime ?? fixture.runtime(id),
        secret: SECRET,
        certificate: fixture.certificate,
        protocol: 'http2',
        listen: { host: '127.0.0.1', port: 0 },
        ...defaults,
        ...options,
      });
      nodes.push(started);
      return started;
    },
    track(started) {
      if ('stop' in started) nodes.push(started);
      else sessions.push(started);
      return started;
    },
  };
  return fixture;
}

/** Polls `check` until it holds; fails with `what` after `timeoutMs`. */
export async function until(what: string, check: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(10);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

interface RawWebTransport {
  readonly ready: Promise<void>;
  readonly closed: Promise<unknown>;
  createBidirectionalStream(): Promise<{ writable: WritableStream<Uint8Array> }>;
  close(): void;
}

/**
 * Writes `bytes` on a new stream of a session opened with the library itself,
 * bypassing our framing: how a test sends what no FrameChannel would (a body
 * that is not msgpack). `closed` settles when the session ends, either way.
 */
export async function sendRawBytes(url: string, certificateHash: Uint8Array, bytes: Uint8Array): Promise<{ readonly closed: Promise<void>; close(): void }> {
  const lib = (await import('@fails-components/webtransport')) as unknown as { WebTransport: new (url: string, options: object) => RawWebTransport };
  const session = new lib.WebTransport(url, { forceReliable: true, serverCertificateHashes: [{ algorithm: 'sha-256', value: certificateHash }] });
  const closed = session.closed.then(
    () => undefined,
    () => undefined,
  );
  const close = () => {
    try {
      session.close();
    } catch {
      // Already closed by the other side.
    }
  };
  try {
    await session.ready;
    const stream = await session.createBidirectionalStream();
    await stream.writable.getWriter().write(bytes);
  } catch (error) {
    close();
    throw error;
  }
  return { closed, close };
}
