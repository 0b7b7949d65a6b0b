import { dispatch } from '../actors/ask.js';
import type { ClusterEvent, PeerRefusal } from '../actors/events.js';
import { FrameError } from './errors.js';
import type { NodeIdentity } from './handshake.js';
import { MAX_BATCH, parseWire, type WireMessage } from './protocol.js';
import type { FrameChannel, TransportSession } from './transport.js';
import { EXPORT_PREFIX, type WireRefs } from './wire-refs.js';

/** Limits a node holds every peer to, and itself to towards them. */
export interface LinkLimits {
  /** Messages to a peer kept until it acknowledges them (while it is away, too); beyond, they are dead letters. */
  readonly maxOutbox: number;
  /** Frames per second a peer may send (messages, acks and heartbeats alike), with bursts of up to one second's worth; beyond, its session is closed. */
  readonly maxMessagesPerSecond: number;
  /** Asks from a peer awaiting our reply; beyond, further asks are refused (not delivered) and counted. */
  readonly maxPendingAsks: number;
  /** How long an ask from a peer counts as pending when we never reply. */
  readonly askTtlMs: number;
}

/** What the node lends each of its links. */
export interface LinkHost {
  readonly self: string;
  readonly refs: WireRefs;
  readonly limits: LinkLimits;
  now(): number;
  publish(event: ClusterEvent): void;
  /** Counts a refusal of this peer (node-wide). */
  refused(reason: PeerRefusal): void;
  /** The certificate hashes this node serves, told to every peer when its session comes up. */
  ownPins(): readonly Uint8Array[];
  /** Hashes a peer told us it serves: the node pins them when it dials. */
  learnPins(hashes: readonly Uint8Array[]): void;
}

export interface Attachment {
  readonly session: TransportSession;
  readonly channel: FrameChannel;
  readonly frames: AsyncIterator<unknown>;
  readonly peer: NodeIdentity;
  /** The node that dialled the session. */
  readonly dialledBy: string;
}

export type MemberStatus = 'joining' | 'up' | 'unreachable' | 'down';

/** Traffic with one peer. */
export interface LinkCounters {
  /** `deliver` frames written, including retransmissions. */
  readonly sent: number;
  /** Messages retransmitted after a reconnect because they were not acknowledged. */
  readonly retransmitted: number;
  /** Messages from the peer handed to local actors. */
  readonly delivered: number;
  /** Messages from the peer seen again after a reconnect and not delivered twice. */
  readonly duplicates: number;
  /** Messages to the peer that became dead letters: not encodable, outbox full, or the node stopped before the peer acknowledged them. */
  readonly undeliverable: number;
  /** Asks from the peer refused because too many were pending. */
  readonly asksRefused: number;
  /** Sessions with the peer closed for its rate, or for a bad frame. */
  readonly sessionsClosed: number;
  /** Messages awaiting the peer's acknowledgement. */
  readonly outbox: number;
  /** Round trip of the last heartbeat, ms (NaN before the first). */
  readonly heartbeatRttMs: number;
}

interface Outgoing {
  readonly id: number;
  readonly to: string;
  readonly msg: unknown;
  readonly deadLetter: (reason: 'unreachable') => void;
}

/**
 * Everything one node keeps about one peer, across that peer's sessions:
 * the outbox of messages it has not acknowledged (so a reconnect resends
 * them: at-least-once), the last message id it delivered from the peer (so
 * a resend is not delivered twice), liveness, and the peer's budget of rate
 * and pending asks. A session is attached while it is up; at most one at a
 * time. Deduplication lasts as long as this node's process: a peer that
 * restarts starts a new incarnation, and its ids start again.
 */
export class PeerLink {
  status: MemberStatus = 'joining';
  private attached: Attachment | undefined;
  private incarnation: string | undefined;
  private address = '';
  private protocol = '';
  private outbox: Outgoing[] = [];
  private head = 0;
  private cursor = 0;
  private nextId = 1;
  private lastDelivered = 0;
  private lastHeard = 0;
  private ackScheduled = false;
  /** The highest id acknowledged to the peer on the attached session, standalone or piggybacked. */
  private ackSent = 0;
  /** Where a batch too large for one frame starts: from there, one message per frame until past it. */
  private oversizeAt: number | undefined;
  private asksRefusedPublished = false;
  private pumping: Attachment | undefined;
  /** The session this node is leaving: its end, or a write failing on it, is the peer's answer to our goodbye. */
  private leaving: Attachment | undefined;
  private tokens: number;
  private tokensAt = 0;
  private readonly pendingAsks = new Map<string, number>();
  private downWaiters: (() => void)[] = [];
  private counts = { sent: 0, retransmitted: 0, delivered: 0, duplicates: 0, undeliverable: 0, asksRefused: 0, sessionsClosed: 0 };
  private rtt = Number.NaN;

  constructor(
    readonly node: string,
    private readonly host: LinkHost,
  ) {
    this.tokens = host.limits.maxMessagesPerSecond;
  }

  get isUp(): boolean {
    return this.attached !== undefined;
  }

  get attachment(): Attachment | undefined {
    return this.attached;
  }

  get peerIncarnation(): string | undefined {
    return this.incarnation;
  }

  /** Resolves once no session is attached. */
  whenDown(): Promise<void> {
    if (this.attached === undefined) return Promise.resolve();
    return new Promise((resolve) => this.downWaiters.push(resolve));
  }

  /**
   * Queues a message for the actor at `to` on the peer; sent now if a session is up, else on the next one.
   * Never throws: a message that cannot be queued or encoded goes to `deadLetter`.
   */
  send(to: string, message: unknown, deadLetter: (reason: 'unreachable') => void): void {
    if (this.outbox.length - this.head >= this.host.limits.maxOutbox) {
      this.counts.undeliverable++;
      deadLetter('unreachable');
      return;
    }
    let msg: unknown;
    try {
      msg = this.host.refs.encode(message, this.host.now());
    } catch {
      // Sending never throws (a cyclic message, one too deep, a getter that throws): what cannot go is a dead letter.
      this.counts.undeliverable++;
      deadLetter('unreachable');
      return;
    }
    if (to.startsWith(EXPORT_PREFIX)) this.pendingAsks.delete(to);
    this.outbox.push({ id: this.nextId++, to, msg, deadLetter });
    this.pump();
  }

  attach(attachment: Attachment, address: string, protocol: string): void {
    const previous = this.attached;
    // The same incarnation on a new session (the tie between two dials, a redial) is no change of membership.
    const swap = previous !== undefined && previous.peer.incarnation === attachment.peer.incarnation;
    if (swap) {
      this.attached = undefined;
      previous.session.close({ code: 0, reason: 'replaced by a newer session' });
    } else if (previous !== undefined) {
      this.detach('restarted as a new incarnation');
    }
    if (this.incarnation !== attachment.peer.incarnation) {
      // A new incarnation numbers its messages from 1 again.
      this.incarnation = attachment.peer.incarnation;
      this.lastDelivered = 0;
      this.pendingAsks.clear();
    }
    this.attached = attachment;
    this.ackSent = 0;
    this.asksRefusedPublished = false;
    this.address = address;
    this.protocol = protocol;
    this.lastHeard = this.host.now();
    this.status = 'up';
    const unacked = this.outbox.length - this.head;
    this.counts.retransmitted += this.cursor - this.head;
    this.cursor = this.head;
    this.oversizeAt = undefined;
    if (!swap) this.host.publish({ type: 'member-up', node: this.node, address, protocol, at: this.host.now() });
    this.control(attachment, { t: 'pins', hashes: this.host.ownPins() });
    void this.read(attachment);
    if (unacked > 0) this.pump();
  }

  /** Closes the attached session, if any, and marks the peer down. */
  detach(reason: string, closeCode = 0): void {
    const attachment = this.attached;
    if (attachment === undefined) return;
    this.attached = undefined;
    this.status = 'down';
    try {
      attachment.session.close({ code: closeCode, reason });
    } catch {
      // A transport may refuse to close a session already closing. The link is down all the same, and a
      // throw here would skip member-down and the waiters, and fail whoever detached (a partition asked
      // of a control actor, a heartbeat) half-way.
    }
    this.host.publish({ type: 'member-down', node: this.node, reason, at: this.host.now() });
    const waiters = this.downWaiters;
    this.downWaiters = [];
    for (const wake of waiters) wake();
  }

  /**
   * Sends a heartbeat, or declares the peer unreachable when it has been
   * silent too long; `pausedMs` of our own event loop's pause is not counted.
   */
  heartbeat(now: number, failureTimeoutMs: number, pausedMs = 0): void {
    for (const [path, expires] of this.pendingAsks) if (expires <= now) this.pendingAsks.delete(path);
    const attachment = this.attached;
    if (attachment === undefined) return;
    this.lastHeard = Math.min(now, this.lastHeard + pausedMs);
    const silentMs = now - this.lastHeard;
    if (silentMs > failureTimeoutMs) {
      this.status = 'unreachable';
      this.host.publish({ type: 'member-unreachable', node: this.node, silentMs, at: now });
      this.detach(`silent for ${Math.round(silentMs)} ms`);
      return;
    }
    this.control(attachment, { t: 'ping', at: now });
  }

  /** Tells the peer which certificate hashes to pin (before a rotation, so it can still dial us after). */
  announcePins(hashes: readonly Uint8Array[]): void {
    if (this.attached !== undefined) this.control(this.attached, { t: 'pins', hashes });
  }

  /**
   * Leaves on purpose: says bye and waits for the peer to close the session, then closes it; what the peer
   * has not acknowledged becomes dead letters.
   */
  async close(): Promise<void> {
    const attachment = this.attached;
    if (attachment !== undefined) {
      this.leaving = attachment;
      // A session closed by us discards what the peer has received and not yet read (the transport fails a
      // session's streams when the close arrives), the goodbye among it: the peer would see us fail, not leave.
      // The peer closes the session once it has read the goodbye, and that close is its acknowledgement. A peer
      // that stopped reading could withhold it (or even the send, under backpressure) for ever.
      let timer: NodeJS.Timeout | undefined;
      const acknowledged = (async () => {
        await attachment.channel.send({ t: 'bye' } satisfies WireMessage);
        await attachment.session.closed;
      })().catch(() => undefined);
      await Promise.race([acknowledged, new Promise((resolve) => (timer = setTimeout(resolve, BYE_TIMEOUT_MS)))]);
      clearTimeout(timer);
      this.detach('node stopped');
    }
    for (let i = this.head; i < this.outbox.length; i++) {
      this.counts.undeliverable++;
      this.outbox[i]!.deadLetter('unreachable');
    }
    this.outbox = [];
    this.head = this.cursor = 0;
  }

  counters(): LinkCounters {
    return { ...this.counts, outbox: this.outbox.length - this.head, heartbeatRttMs: this.rtt };
  }

  info(): { readonly address: string; readonly protocol: string; readonly incarnation: string | undefined; readonly silentMs: number } {
    return { address: this.address, protocol: this.protocol, incarnation: this.incarnation, silentMs: this.host.now() - this.lastHeard };
  }

  /**
   * Writes the outbox from the cursor on the attached session. One pump per
   * session: a pump still waiting on a session that was replaced must not
   * hold up the next one, and stops as soon as it wakes.
   */
  private pump(): void {
    const attachment = this.attached;
    if (attachment === undefined || this.pumping === attachment) return;
    this.pumping = attachment;
    void this.pumpOn(attachment);
  }

  private async pumpOn(attachment: Attachment): Promise<void> {
    try {
      // Messages sent in one turn (a burst of dispatches) go as full batches, and encoding waits until the burst is over.
      await Promise.resolve();
      while (this.attached === attachment && this.cursor < this.outbox.length) {
        // Messages that queued up go as one frame; a batch too large for a frame goes one message at a time.
        const batch = this.outbox.slice(this.cursor, this.cursor + (this.oversizeAt === this.cursor ? 1 : MAX_BATCH));
        const frame = this.frameOf(batch);
        try {
          // No promise per frame while the channel has room: the outbox drains in one synchronous pass.
          if (attachment.channel.trySend?.(frame) !== true) await attachment.channel.send(frame);
        } catch (error) {
          if (error instanceof FrameError) {
            if (batch.length > 1) this.oversizeAt = this.cursor;
            // A message alone that can never be sent (too large for a frame, or not encodable) is a dead letter.
            else this.drop(batch[0]!);
            continue;
          }
          // The session broke mid-write: the messages stay in the outbox for the next session.
          this.lost(attachment, 'write failed');
          return;
        }
        // Counted when handed over: a write still pending on a session that is gone counts as written.
        this.counts.sent += batch.length;
        this.cursor += batch.length;
        if (this.oversizeAt !== undefined && this.cursor > this.oversizeAt) this.oversizeAt = undefined;
        // Its ack counts as sent once the frame is handed over (a frame refused as unencodable never carried it).
        if (frame.ack !== undefined && frame.ack > this.ackSent) this.ackSent = frame.ack;
      }
    } finally {
      if (this.pumping === attachment) this.pumping = undefined;
    }
  }

  /** The frame for `batch`, carrying the ack owed to the peer, if any, so that no ack frame of its own is needed. */
  private frameOf(batch: readonly Outgoing[]): Extract<WireMessage, { t: 'deliver' | 'deliveries' }> {
    const ack = this.lastDelivered > this.ackSent ? { ack: this.lastDelivered } : {};
    if (batch.length > 1) return { t: 'deliveries', items: batch.map((entry) => [entry.id, entry.to, entry.msg] as const), ...ack };
    const [entry] = batch as [Outgoing];
    return { t: 'deliver', id: entry.id, to: entry.to, msg: entry.msg, ...ack };
  }

  /** Takes an unsendable message out of the outbox; its id is skipped, which the receiver's dedup allows. */
  private drop(entry: Outgoing): void {
    const at = this.outbox.indexOf(entry, this.head);
    if (at >= 0) {
      this.outbox.splice(at, 1);
      if (at < this.cursor) this.cursor--;
    }
    this.counts.undeliverable++;
    entry.deadLetter('unreachable');
  }

  private async read(attachment: Attachment): Promise<void> {
    try {
      for (;;) {
        const next = await attachment.frames.next();
        if (next.done || this.attached !== attachment) break;
        this.lastHeard = this.host.now();
        const message = parseWire(next.value);
        // Every frame counts against the rate (a flood of pings, each owed a pong, is refused like one of messages), and every message in it.
        if (!this.withinRate(message.t === 'deliveries' ? message.items.length : 1)) {
          this.refuse('rate-limit', `over ${this.host.limits.maxMessagesPerSecond} messages/s`);
          return;
        }
        if (!this.handle(attachment, message)) return;
      }
      this.lost(attachment, 'session ended');
    } catch (error) {
      if (this.attached !== attachment) return;
      if (error instanceof FrameError) this.refuse('bad-frame', `bad frame: ${error.message}`);
      else this.lost(attachment, 'session failed');
    }
  }

  /** Acts on one message; false when the session was closed for it. */
  private handle(attachment: Attachment, message: WireMessage): boolean {
    switch (message.t) {
      case 'deliver':
        if (message.ack !== undefined) this.acknowledged(message.ack);
        this.receive(message.id, message.to, message.msg);
        this.scheduleAck(attachment);
        return true;
      case 'deliveries':
        if (message.ack !== undefined) this.acknowledged(message.ack);
        for (const [id, to, msg] of message.items) this.receive(id, to, msg);
        this.scheduleAck(attachment);
        return true;
      case 'ack':
        this.acknowledged(message.upTo);
        return true;
      case 'ping':
        this.control(attachment, { t: 'pong', at: message.at });
        return true;
      case 'pong':
        this.rtt = this.host.now() - message.at;
        return true;
      case 'pins':
        this.host.learnPins(message.hashes);
        return true;
      case 'bye':
        this.detach('left');
        return false;
      default:
        this.refuse('bad-frame', `unexpected ${message.t} after the handshake`);
        return false;
    }
  }

  private receive(id: number, to: string, msg: unknown): void {
    if (id <= this.lastDelivered) {
      this.counts.duplicates++;
      return;
    }
    this.lastDelivered = id;
    const asks: string[] = [];
    const decoded = this.host.refs.decode(msg, (node, path) => {
      if (node === this.node && path.startsWith(EXPORT_PREFIX)) asks.push(path);
    });
    if (asks.length > 0) {
      if (this.pendingAsks.size + asks.length > this.host.limits.maxPendingAsks) {
        this.counts.asksRefused++;
        this.host.refused('too-many-asks');
        // Published once per session, not once per refused ask: a flood must not flood the event stream too.
        if (!this.asksRefusedPublished) {
          this.asksRefusedPublished = true;
          this.host.publish({ type: 'peer-refused', address: this.address, node: this.node, reason: 'too-many-asks', at: this.host.now() });
        }
        return;
      }
      const expires = this.host.now() + this.host.limits.askTtlMs;
      for (const path of asks) this.pendingAsks.set(path, expires);
    }
    this.counts.delivered++;
    dispatch(this.host.refs.local(to), decoded);
  }

  private acknowledged(upTo: number): void {
    while (this.head < this.outbox.length && this.outbox[this.head]!.id <= upTo) this.head++;
    if (this.cursor < this.head) this.cursor = this.head;
    if (this.head > 1024 && this.head * 2 > this.outbox.length) {
      this.outbox = this.outbox.slice(this.head);
      this.cursor -= this.head;
      this.oversizeAt = undefined;
      this.head = 0;
    }
  }

  /** One ack per turn of the event loop covers everything delivered in it, unless a deliver frame carried it first. */
  private scheduleAck(attachment: Attachment): void {
    if (this.ackScheduled) return;
    this.ackScheduled = true;
    setImmediate(() => {
      this.ackScheduled = false;
      // Unless a message to the peer carried it already (a reply usually does).
      if (this.attached !== attachment || this.lastDelivered <= this.ackSent) return;
      this.ackSent = this.lastDelivered;
      this.control(attachment, { t: 'ack', upTo: this.lastDelivered });
    });
  }

  private control(attachment: Attachment, message: WireMessage): void {
    attachment.channel.send(message).catch(() => this.lost(attachment, 'write failed'));
  }

  /** The session ended or broke under us: the peer is down, unless we are leaving it, when `close` says why. */
  private lost(attachment: Attachment, reason: string): void {
    if (this.attached === attachment && this.leaving !== attachment) this.detach(reason);
  }

  /** A token bucket refilled at the rate limit, holding at most one second's worth. */
  private withinRate(messages: number): boolean {
    const now = this.host.now();
    const rate = this.host.limits.maxMessagesPerSecond;
    this.tokens = Math.min(rate, this.tokens + ((now - this.tokensAt) * rate) / 1_000);
    this.tokensAt = now;
    if (this.tokens < messages) return false;
    this.tokens -= messages;
    return true;
  }

  private refuse(reason: PeerRefusal, detail: string): void {
    this.counts.sessionsClosed++;
    this.host.refused(reason);
    this.host.publish({ type: 'peer-refused', address: this.address, node: this.node, reason, at: this.host.now() });
    this.detach(detail, CLOSE_REFUSED);
  }
}

/** How long a node stopping waits for a peer to close the session after its goodbye. */
const BYE_TIMEOUT_MS = 1_000;

/** Close code of a session a node refused (bad token, bad frame, over a limit). */
export const CLOSE_REFUSED = 4401;
