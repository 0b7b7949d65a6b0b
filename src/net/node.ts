import { randomBytes } from 'node:crypto';
import type { ClusterEvent, PeerRefusal } from '../actors/events.js';
import type { Logger } from '../actors/logging.js';
import type { ActorRef } from '../actors/ref.js';
import type { Runtime } from '../actors/runtime.js';
import { SwarmbankError } from '../errors.js';
import { generateCertificate, needsRotation, type NodeCertificate } from './certificate.js';
import { acceptHandshake, clusterSecret, dialHandshake, HandshakeError, type NodeIdentity } from './handshake.js';
import { CLOSE_REFUSED, PeerLink, type Attachment, type LinkCounters, type LinkLimits, type MemberStatus } from './link.js';
import { isNodeId } from './protocol.js';
import type { FrameChannel, Transport, TransportListener, TransportSession } from './transport.js';
import { webTransport } from './webtransport.js';
import { EXPORT_PREFIX, WireRefs } from './wire-refs.js';

/** A node option that cannot work, naming the option. */
export class NodeConfigError extends SwarmbankError {
  declare readonly code: 'NODE_CONFIG_INVALID';

  constructor(
    readonly key: string,
    message: string,
  ) {
    super('NODE_CONFIG_INVALID', `${key}: ${message}`);
  }
}

/** A peer to dial: where it listens and, optionally, the SHA-256 of its certificate to pin. */
export interface PeerAddress {
  readonly host: string;
  readonly port: number;
  readonly certificateHash?: Uint8Array;
}

export interface NodeLimits extends LinkLimits {
  /** Largest frame accepted from, or sent to, a peer. */
  readonly maxFrameBytes: number;
}

/** Every option in milliseconds is at most MAX_TIMER_MS (2^31 − 1, about 24.8 days): what a Node.js timer can wait. */
export interface NodeOptions {
  /** Unique in the cluster: 1–64 letters, digits, '.', '_' or '-'. */
  readonly id: string;
  /** The runtime whose actors this node serves and whose events carry its membership. */
  readonly runtime: Runtime;
  /** Shared by every node of the cluster; at least 16 bytes. */
  readonly secret: string | Uint8Array;
  /** Where to accept peers; port 0 picks a free one. Without it the node only dials. */
  readonly listen?: { readonly host: string; readonly port: number };
  /** Peers to dial and keep dialling: `host:port`, optionally `#<sha-256 hex>` to pin that peer's certificate. */
  readonly peers?: readonly (string | PeerAddress)[];
  /**
   * The TLS identity. Default: a fresh self-signed P-256 certificate valid 13
   * days. Give every node the same one (a cluster certificate) and peers need
   * no pins: a node pins its own certificate's hash by default.
   */
  readonly certificate?: NodeCertificate;
  /** Certificate hashes accepted from every peer, besides our own and per-peer pins. */
  readonly trust?: readonly Uint8Array[];
  /** 'quic' asks for HTTP/3 and falls back to HTTP/2, saying so once; 'http2' never tries HTTP/3. Default 'quic'. */
  readonly protocol?: 'quic' | 'http2';
  /** Another transport (tests, in-memory). Default WebTransport. */
  readonly transport?: Transport;
  /** Heartbeat period. Default 500 ms. */
  readonly heartbeatMs?: number;
  /**
   * A peer silent (no frame, not even a heartbeat) this long is unreachable and its session is closed.
   * Default 10,000 ms: a peer whose event loop is busy with one long message (a training episode on a
   * loaded machine) must not look dead.
   */
  readonly failureTimeoutMs?: number;
  /** A session must complete the handshake (and a dial must connect) within this. Default 3,000 ms. */
  readonly handshakeTimeoutMs?: number;
  /** Delay between dial attempts: doubles from `minMs` to `maxMs`, with jitter. Default 100 ms to 5,000 ms. */
  readonly reconnect?: { readonly minMs: number; readonly maxMs: number };
  readonly limits?: Partial<NodeLimits>;
  readonly logger?: Logger;
}

export const DEFAULT_LIMITS: NodeLimits = {
  maxFrameBytes: 1 << 20,
  maxOutbox: 100_000,
  maxMessagesPerSecond: 200_000,
  maxPendingAsks: 1_000,
  askTtlMs: 60_000,
};

/** One member as this node sees it. */
export interface MemberInfo {
  readonly node: string;
  readonly status: MemberStatus;
  readonly address: string;
  readonly protocol: string;
  readonly incarnation: string | undefined;
  /** Since the last frame from it. */
  readonly silentMs: number;
  readonly counters: LinkCounters;
}

export interface NodeCounters {
  /** Sessions refused or closed, by why. */
  readonly refused: Readonly<Record<PeerRefusal, number>>;
  /** Dials that failed: nothing listening, a certificate that matched no pin, a listener that did not prove the secret. */
  readonly dialFailures: number;
  /** Exported reply refs alive (asks this node sent that still await replies). */
  readonly exports: number;
}

const SESSION_PATH = '/swarmbank';
/** How often a node that made its own certificate checks whether to renew it. */
const ROTATION_CHECK_MS = 3_600_000;
const MAX_PINS_KEPT = 64;
const MAX_REMOTE_REFS = 4_096;

/**
 * A runtime on the network. A node listens for peers, dials the ones it was
 * given and keeps dialling them (with backoff) whenever they are away,
 * authenticates every session both ways with the cluster secret, and then
 * carries messages between its actors and theirs: `ref(node, path)` is an
 * actor on another node, with the same typed `dispatch` and `ask` as a local
 * one. Delivery is at-least-once with deduplication (see `PeerLink`);
 * heartbeats detect a silent peer within `failureTimeoutMs`; membership
 * changes are published on the runtime's events.
 */
export class Node {
  readonly id: string;
  readonly incarnation: string;
  readonly runtime: Runtime;
  private current: NodeCertificate;
  /** Certificate hashes this node accepts when it dials: its own (every one it has served), `trust`, and those peers told it. */
  private readonly pins = new Map<string, Uint8Array>();
  private rotationTimer: NodeJS.Timeout | undefined;
  private readonly refs: WireRefs;
  private readonly remoteRefs = new Map<string, ActorRef<unknown>>();
  private readonly links = new Map<string, PeerLink>();
  /** Which node answered at a dialled address, so a dial loop waits while that node is up. */
  private readonly nodeAt = new Map<string, string>();
  private readonly blocked = new Set<string>();
  private readonly refusedCounts: Record<PeerRefusal, number> = {
    'handshake-timeout': 0,
    'bad-token': 0,
    'duplicate-node': 0,
    'bad-frame': 0,
    'frame-limit': 0,
    'rate-limit': 0,
    'too-many-asks': 0,
  };
  private dialFailures = 0;
  private readonly dialLoops: Promise<void>[] = [];
  private readonly pendingSessions = new Set<TransportSession>();
  private heartbeat: NodeJS.Timeout | undefined;
  private wakers = new Set<() => void>();
  private stopping: Promise<void> | undefined;

  private constructor(
    private readonly options: ResolvedOptions,
    private readonly transport: Transport,
    private listener: TransportListener | undefined,
  ) {
    this.id = options.id;
    this.runtime = options.runtime;
    this.current = options.certificate;
    for (const hash of [options.certificate.hash, ...options.trust]) this.pin(hash);
    this.incarnation = randomBytes(8).toString('hex');
    this.refs = new WireRefs({
      self: this.id,
      runtime: this.runtime,
      remote: (node, path) => this.ref(node, path),
      exportTtlMs: options.limits.askTtlMs,
      maxExports: 100_000,
    });
  }

  /** Starts a node: listens (when asked), dials its peers, and starts heartbeats. */
  static async start(input: NodeOptions): Promise<Node> {
    const options = await resolve(input);
    const transport =
      input.transport ??
      webTransport({
        certificate: options.certificate,
        preferHttp3: options.protocol === 'quic',
        maxFrameBytes: options.limits.maxFrameBytes,
        ...(input.logger === undefined ? {} : { logger: input.logger }),
      });
    let listener: TransportListener | undefined;
    if (options.listen !== undefined) listener = await transport.listen(options.listen.host, options.listen.port);
    const node = new Node(options, transport, listener);
    if (input.certificate === undefined) {
      // A certificate the node made itself, it renews itself, before WebTransport clients would refuse it as expired.
      node.rotationTimer = setInterval(() => {
        if (needsRotation(node.current)) void node.rotateCertificate().catch((error: unknown) => input.logger?.error({ error: String(error) }, 'certificate rotation failed'));
      }, ROTATION_CHECK_MS);
    } else if (needsRotation(options.certificate)) {
      input.logger?.warn({ notAfter: options.certificate.notAfter.toISOString() }, 'node certificate expires within 2 days: rotate it (rotateCertificate)');
    }
    node.begin();
    return node;
  }

  /** The certificate the node serves now. */
  get certificate(): NodeCertificate {
    return this.current;
  }

  /**
   * Serves a new certificate — `next`, or a fresh self-signed one valid 13
   * days — to connections from now on. Every peer up is told its hash first,
   * so it can still dial this node; a peer away during the rotation learns it
   * when either side next dials the other (this node keeps pinning its old
   * certificates). A node that made its own certificate does this by itself
   * two days before it expires.
   */
  async rotateCertificate(next?: NodeCertificate): Promise<NodeCertificate> {
    const certificate = next ?? (await generateCertificate({ hosts: this.options.hosts, commonName: `swarmbank node ${this.id}` }));
    this.pin(certificate.hash);
    for (const link of this.links.values()) link.announcePins([certificate.hash]);
    this.listener?.updateCertificate?.(certificate);
    this.current = certificate;
    this.options.logger?.info({ notAfter: certificate.notAfter.toISOString() }, 'node certificate rotated');
    return certificate;
  }

  /** Where the node listens (its port, when it was asked for port 0), if it listens. */
  get address(): { readonly host: string; readonly port: number } | undefined {
    return this.listener?.address;
  }

  /** The wire protocol under the node's listener, e.g. 'webtransport-http2'. */
  get protocol(): string | undefined {
    return this.listener?.protocol;
  }

  /**
   * The actor at `path` on node `node`. Messages to it are queued while the
   * node is away (up to `maxOutbox`), resent after a reconnect until
   * acknowledged, and delivered once. Asks time out on this runtime's clock.
   */
  ref<Msg>(node: string, path: string): ActorRef<Msg> {
    if (node === this.id) return this.refs.local(path) as ActorRef<Msg>;
    // Actors' refs are asked for again and again (every pull, every vote, every message naming one): one each.
    // A reply ref is used once, so it is not kept.
    const key = `${node}\0${path}`;
    const known = this.remoteRefs.get(key);
    if (known !== undefined) return known as ActorRef<Msg>;
    const ref = this.runtime.externalRef<Msg>(`swarmbank://${node}${path}`, (message, deadLetter) => {
      if (this.stopping !== undefined) deadLetter('unreachable');
      else this.link(node).send(path, message, deadLetter);
    });
    this.refs.markRemote(ref, node, path);
    if (!path.startsWith(EXPORT_PREFIX)) {
      // Paths come from the network: keep the cache bounded.
      if (this.remoteRefs.size >= MAX_REMOTE_REFS) this.remoteRefs.clear();
      this.remoteRefs.set(key, ref as ActorRef<unknown>);
    }
    return ref;
  }

  /** Every peer this node has heard of, and how it stands. */
  members(): MemberInfo[] {
    return [...this.links.values()].map((link) => ({ node: link.node, status: link.status, ...link.info(), counters: link.counters() }));
  }

  /** Ids of the members up now. */
  up(): string[] {
    return [...this.links.values()].filter((link) => link.isUp).map((link) => link.node);
  }

  counters(): NodeCounters {
    return { refused: { ...this.refusedCounts }, dialFailures: this.dialFailures, exports: this.refs.exportCount };
  }

  /** Resolves when `node` is up, or rejects after `timeoutMs`. */
  async whenUp(node: string, timeoutMs = 10_000): Promise<void> {
    if (this.links.get(node)?.isUp) return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        unsubscribe();
        reject(new SwarmbankError('NODE_NOT_UP', `node ${node} not up within ${timeoutMs} ms`));
      }, timeoutMs);
      const unsubscribe = this.runtime.events.on('member-up', (event) => {
        if (event.node !== node) return;
        clearTimeout(timer);
        unsubscribe();
        resolve();
      });
    });
  }

  /**
   * Cuts this node off from `nodes` (fault injection, as a network partition
   * would): their sessions are closed, and until `heal` new ones are refused
   * before the handshake completes (so the other side never counts this
   * node up, and nobody counts it as a bad peer) and this node does not dial
   * them. Messages to them wait in their outboxes, and go once healed.
   */
  partition(nodes: readonly string[]): void {
    for (const node of nodes) {
      this.blocked.add(node);
      this.links.get(node)?.detach('partitioned');
    }
  }

  /** Ends every partition and dials the peers again at once. */
  heal(): void {
    this.blocked.clear();
    this.wake();
  }

  /**
   * Says bye to every peer and waits (up to a second) for each to close its session, so each sees this node
   * leave rather than fail; then closes what is left and the listener, and stops dialling. The runtime is left running.
   */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      clearInterval(this.heartbeat);
      clearInterval(this.rotationTimer);
      this.wake();
      for (const session of this.pendingSessions) session.close({ code: 0, reason: 'node stopped' });
      await Promise.all([...this.links.values()].map((link) => link.close()));
      await this.listener?.close();
      await Promise.allSettled(this.dialLoops);
    })();
    return this.stopping;
  }

  private begin(): void {
    const { heartbeatMs, failureTimeoutMs } = this.options;
    let lastTick = Date.now();
    this.heartbeat = setInterval(() => {
      const now = Date.now();
      // Timers run before pending reads, so after a pause of our own (a long message, GC) every peer would look
      // silent though its frames wait in the socket: a pause of ours is not counted against the peers.
      const pausedMs = Math.max(0, now - lastTick - heartbeatMs);
      lastTick = now;
      this.refs.sweep(now);
      for (const link of this.links.values()) link.heartbeat(now, failureTimeoutMs, pausedMs);
    }, heartbeatMs);
    if (this.listener !== undefined) void this.acceptLoop(this.listener);
    for (const peer of this.options.peers) this.dialLoops.push(this.dialLoop(peer));
  }

  private link(node: string): PeerLink {
    let link = this.links.get(node);
    if (link === undefined) {
      link = new PeerLink(node, {
        self: this.id,
        refs: this.refs,
        limits: this.options.limits,
        now: () => Date.now(),
        publish: (event: ClusterEvent) => this.runtime.publish(event),
        refused: (reason) => this.refusedCounts[reason]++,
        ownPins: () => [this.current.hash],
        learnPins: (hashes) => {
          for (const hash of hashes) this.pin(hash);
        },
      });
      this.links.set(node, link);
    }
    return link;
  }

  private async acceptLoop(listener: TransportListener): Promise<void> {
    for await (const session of listener.sessions()) {
      if (this.stopping !== undefined) {
        session.close({ code: 0, reason: 'node stopped' });
        continue;
      }
      void this.admit(session);
    }
  }

  /** A session a peer opened: it gets the handshake timeout to prove itself, and nothing it sends is read before. */
  private async admit(session: TransportSession): Promise<void> {
    this.pendingSessions.add(session);
    // One deadline for the whole handshake, the wait for the peer's first stream included.
    const deadline = Date.now() + this.options.handshakeTimeoutMs;
    try {
      const channel = await firstChannel(session, this.options.handshakeTimeoutMs);
      const frames = channel.messages();
      const peer = await acceptHandshake(channel, frames, {
        own: this.identity,
        secret: this.options.secret,
        maxFrameBytes: this.options.limits.maxFrameBytes,
        timeoutMs: Math.max(1, deadline - Date.now()),
        admit: (candidate) => this.admissible(candidate),
      });
      this.attach({ session, channel, frames, peer, dialledBy: peer.node });
    } catch (error) {
      const reason = error instanceof HandshakeError && isRefusal(error.reason) ? error.reason : undefined;
      // A session that closed (or broke) before it said anything, or one we cut off on purpose, is no bad peer.
      if (reason !== undefined) {
        this.refusedCounts[reason]++;
        this.runtime.publish({ type: 'peer-refused', address: `${session.peer.address}:${session.peer.port}`, reason, at: Date.now() });
      }
      session.close({ code: reason === undefined ? 0 : CLOSE_REFUSED, reason: reason ?? (error instanceof HandshakeError ? error.reason : 'handshake failed') });
    } finally {
      this.pendingSessions.delete(session);
    }
  }

  /**
   * Whether a proven peer may attach: not one claiming our id, nor one
   * claiming the id of a member up now as another incarnation (two nodes
   * with one id; a restarted node waits until its old session is found dead,
   * within `failureTimeoutMs`), nor one we are cut off from. A partitioned
   * peer is refused before it is welcomed, so it never counts itself up.
   */
  private admissible(candidate: NodeIdentity): PeerRefusal | 'partitioned' | undefined {
    if (candidate.node === this.id) return 'duplicate-node';
    if (this.blocked.has(candidate.node)) return 'partitioned';
    const link = this.links.get(candidate.node);
    if (link?.isUp && link.peerIncarnation !== candidate.incarnation) return 'duplicate-node';
    return undefined;
  }

  private async dialLoop(peer: PeerAddress): Promise<void> {
    const key = `${peer.host}:${peer.port}`;
    const url = `https://${peer.host.includes(':') ? `[${peer.host}]` : peer.host}:${peer.port}${SESSION_PATH}`;
    const pins = () => [...(peer.certificateHash === undefined ? [] : [peer.certificateHash]), ...this.pins.values()];
    const { minMs, maxMs } = this.options.reconnect;
    let delay = minMs;
    while (this.stopping === undefined) {
      const known = this.nodeAt.get(key);
      const link = known === undefined ? undefined : this.links.get(known);
      if (link?.isUp) {
        // Already connected (perhaps it dialled us): dial again only once that session ends.
        await link.whenDown();
        delay = minMs;
      } else if (known !== undefined && this.blocked.has(known)) {
        // Cut off: no dialling until healed (heal wakes this sleep), then from the shortest delay.
        await this.sleep(maxMs);
        delay = minMs;
        continue;
      } else {
        const attached = await this.dial(url, pins(), key);
        if (attached !== undefined) {
          delay = minMs;
          await attached.whenDown();
        }
      }
      if (this.stopping !== undefined) return;
      await this.sleep(delay * (0.5 + Math.random() / 2));
      delay = Math.min(maxMs, delay * 2);
    }
  }

  /** One dial: the link it attached to, or undefined when it failed or lost a tie with a session already up. */
  private async dial(url: string, pins: readonly Uint8Array[], key: string): Promise<PeerLink | undefined> {
    let session: TransportSession | undefined;
    try {
      session = await this.transport.connect(url, { serverCertificateHashes: pins, timeoutMs: this.options.handshakeTimeoutMs });
      // Stopped while connecting: `stop` has already closed the sessions it knew of, so close this one now.
      if (this.stopping !== undefined) {
        session.close({ code: 0, reason: 'node stopped' });
        return undefined;
      }
      this.pendingSessions.add(session);
      const channel = await session.openChannel();
      const frames = channel.messages();
      const peer = await dialHandshake(channel, frames, {
        own: this.identity,
        secret: this.options.secret,
        maxFrameBytes: this.options.limits.maxFrameBytes,
        timeoutMs: this.options.handshakeTimeoutMs,
      });
      this.nodeAt.set(key, peer.node);
      if (this.stopping !== undefined) throw new HandshakeError('closed', 'node stopped');
      return this.attach({ session, channel, frames, peer, dialledBy: this.id });
    } catch (error) {
      this.dialFailures++;
      if (error instanceof HandshakeError && error.reason === 'frame-limit') {
        // A misconfiguration that retrying will not cure: say it where it shows.
        this.refusedCounts['frame-limit']++;
        this.runtime.publish({ type: 'peer-refused', address: url, reason: 'frame-limit', at: Date.now() });
        this.options.logger?.warn({ url, error: error.message }, 'peer refused');
      }
      this.options.logger?.debug({ url, error: error instanceof Error ? error.message : String(error) }, 'dial failed');
      session?.close({ code: 0, reason: 'dial failed' });
      return undefined;
    } finally {
      if (session !== undefined) this.pendingSessions.delete(session);
    }
  }

  /**
   * Puts a proven session on its peer's link. When both nodes dialled each
   * other, both keep the session dialled by the smaller node id, so they
   * agree on one without talking about it; a session from a new incarnation,
   * or dialled again by the same side, replaces the old one.
   */
  private attach(attachment: Attachment): PeerLink | undefined {
    const { peer, session } = attachment;
    if (this.blocked.has(peer.node) || this.stopping !== undefined) {
      session.close({ code: 0, reason: 'partitioned' });
      return undefined;
    }
    const link = this.link(peer.node);
    const current = link.attachment;
    if (current !== undefined && current.peer.incarnation === peer.incarnation && current.dialledBy !== attachment.dialledBy) {
      const keeper = this.id < peer.node ? this.id : peer.node;
      if (current.dialledBy === keeper) {
        session.close({ code: 0, reason: 'duplicate session' });
        return undefined;
      }
    }
    link.attach(attachment, `${session.peer.address}:${session.peer.port}`, session.peer.protocol);
    return link;
  }

  private pin(hash: Uint8Array): void {
    const key = Buffer.from(hash).toString('hex');
    this.pins.delete(key);
    this.pins.set(key, hash);
    // Pins come from authenticated peers, but keep them bounded all the same: the oldest go first.
    if (this.pins.size > MAX_PINS_KEPT) this.pins.delete(this.pins.keys().next().value!);
  }

  private get identity(): NodeIdentity {
    return { node: this.id, incarnation: this.incarnation };
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wakers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wakers.add(done);
    });
  }

  private wake(): void {
    for (const wake of [...this.wakers]) wake();
  }
}

/** Starts a node; see `Node`. */
export function startNode(options: NodeOptions): Promise<Node> {
  return Node.start(options);
}

function isRefusal(reason: string): reason is PeerRefusal {
  return ['handshake-timeout', 'bad-token', 'duplicate-node', 'bad-frame', 'frame-limit', 'rate-limit', 'too-many-asks'].includes(reason);
}

async function firstChannel(session: TransportSession, timeoutMs: number): Promise<FrameChannel> {
  const channels = session.incomingChannels();
  let timer: NodeJS.Timeout | undefined;
  try {
    const next = await Promise.race([
      channels.next(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new HandshakeError('handshake-timeout', `no stream within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    if (next.done) throw new HandshakeError('closed', 'the session closed before opening a stream');
    return next.value;
  } finally {
    clearTimeout(timer);
  }
}

interface ResolvedOptions {
  readonly id: string;
  readonly runtime: Runtime;
  readonly secret: Uint8Array;
  readonly listen: { readonly host: string; readonly port: number } | undefined;
  readonly peers: readonly PeerAddress[];
  readonly certificate: NodeCertificate;
  /** The names a certificate the node makes for itself covers. */
  readonly hosts: readonly string[];
  readonly trust: readonly Uint8Array[];
  readonly protocol: 'quic' | 'http2';
  readonly heartbeatMs: number;
  readonly failureTimeoutMs: number;
  readonly handshakeTimeoutMs: number;
  readonly reconnect: { readonly minMs: number; readonly maxMs: number };
  readonly limits: NodeLimits;
  readonly logger: Logger | undefined;
}

async function resolve(input: NodeOptions): Promise<ResolvedOptions> {
  if (!isNodeId(input.id)) throw new NodeConfigError('id', `must be 1–64 letters, digits, '.', '_' or '-', got ${JSON.stringify(input.id)}`);
  let secret: Uint8Array;
  try {
    secret = clusterSecret(input.secret);
  } catch (error) {
    throw new NodeConfigError('secret', error instanceof Error ? error.message : String(error));
  }
  const listen = input.listen;
  if (listen !== undefined && !(Number.isInteger(listen.port) && listen.port >= 0 && listen.port <= 65_535)) {
    throw new NodeConfigError('listen.port', `must be an integer in [0, 65535], got ${listen.port}`);
  }
  const peers = (input.peers ?? []).map((peer, i) => (typeof peer === 'string' ? parsePeer(peer, `peers[${i}]`) : peer));
  const heartbeatMs = milliseconds(input.heartbeatMs ?? 500, 'heartbeatMs');
  const failureTimeoutMs = milliseconds(input.failureTimeoutMs ?? 10_000, 'failureTimeoutMs');
  if (failureTimeoutMs <= heartbeatMs * 2) throw new NodeConfigError('failureTimeoutMs', `must exceed two heartbeats (${heartbeatMs * 2} ms), got ${failureTimeoutMs}`);
  const reconnect = input.reconnect ?? { minMs: 100, maxMs: 5_000 };
  milliseconds(reconnect.minMs, 'reconnect.minMs');
  milliseconds(reconnect.maxMs, 'reconnect.maxMs');
  if (!(reconnect.maxMs >= reconnect.minMs)) throw new NodeConfigError('reconnect.maxMs', `must be at least reconnect.minMs (${reconnect.minMs}), got ${reconnect.maxMs}`);
  const limits = { ...DEFAULT_LIMITS, ...input.limits };
  for (const [key, value] of Object.entries(limits)) positive(value, `limits.${key}`);
  milliseconds(limits.askTtlMs, 'limits.askTtlMs');
  const hosts = ['127.0.0.1', '::1', 'localhost', ...(listen !== undefined && !['0.0.0.0', '::'].includes(listen.host) ? [listen.host] : [])];
  return {
    id: input.id,
    runtime: input.runtime,
    secret,
    listen,
    peers,
    certificate: input.certificate ?? (await generateCertificate({ hosts: [...new Set(hosts)], commonName: `swarmbank node ${input.id}` })),
    hosts: [...new Set(hosts)],
    trust: input.trust ?? [],
    protocol: input.protocol ?? 'quic',
    heartbeatMs,
    failureTimeoutMs,
    handshakeTimeoutMs: milliseconds(input.handshakeTimeoutMs ?? 3_000, 'handshakeTimeoutMs'),
    reconnect,
    limits,
    logger: input.logger,
  };
}

function positive(value: number, key: string): number {
  if (!(typeof value === 'number' && Number.isFinite(value) && value > 0)) throw new NodeConfigError(key, `must be a positive number, got ${value}`);
  return value;
}

/** Node's timers take at most this: a longer delay becomes 1 ms, and a heartbeat would spin. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** A positive number of milliseconds a timer can wait; refused, naming `key`, otherwise. */
function milliseconds(value: number, key: string): number {
  positive(value, key);
  if (value > MAX_TIMER_MS) throw new NodeConfigError(key, `must be at most ${MAX_TIMER_MS} ms (about 24.8 days), got ${value}`);
  return value;
}

/** `host:port`, `[v6]:port`, either with `#<64 hex digits>`: the certificate hash to pin. */
export function parsePeer(text: string, key = 'peer'): PeerAddress {
  const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([^\s:#[\]]+)):(\d{1,5})(?:#([0-9A-Fa-f]{64}))?$/.exec(text.trim());
  if (match === null) throw new NodeConfigError(key, `expected host:port or host:port#<sha-256 hex>, got ${JSON.stringify(text)}`);
  const port = Number(match[3]);
  if (port < 1 || port > 65_535) throw new NodeConfigError(key, `port must be in [1, 65535], got ${port}`);
  const host = match[1] ?? match[2]!;
  return { host, port, ...(match[4] === undefined ? {} : { certificateHash: Uint8Array.from(Buffer.from(match[4], 'hex')) }) };
}
