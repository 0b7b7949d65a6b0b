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
