import { type AddressInfo, createServer } from 'node:net';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { type ActorRef, type ClusterEvent, type Runtime, type RuntimeEvent, ask, dispatch, stateless } from '../../src/index.js';
import { AskTimeoutError } from '../../src/actors/errors.js';
import { generateCertificate } from '../../src/net/certificate.js';
import { dialHandshake } from '../../src/net/handshake.js';
import { MAX_TIMER_MS, type Node, type NodeOptions, NodeConfigError, parsePeer, startNode } from '../../src/net/node.js';
import { detectHttp3, webTransport } from '../../src/net/webtransport.js';
import { MAX_DEPTH } from '../../src/net/wire-refs.js';
import { SECRET, sleep, until, useNodes } from './support.js';

/**
 * Two or three nodes in this process, on real WebTransport sessions over
 * 127.0.0.1 (HTTP/2 here; HTTP/3 where the native transport loads), with
 * short heartbeats so failure detection takes well under a second.
 */

const FAST = { heartbeatMs: 50, failureTimeoutMs: 400, handshakeTimeoutMs: 1_000, reconnect: { minMs: 20, maxMs: 200 } } as const;

const fixture = useNodes(FAST);
const { node, runtime } = fixture;

function peerOf(target: Node): string {
  return `127.0.0.1:${target.address!.port}`;
}

/** Two nodes, `a` dialling `b`, both up. */
async function pair(options: { a?: Partial<NodeOptions>; b?: Partial<NodeOptions> } = {}): Promise<{ a: Node; b: Node }> {
  const b = await node('b', options.b);
  const a = await node('a', { peers: [peerOf(b)], ...options.a });
  await Promise.all([a.whenUp('b', 5_000), b.whenUp('a', 5_000)]);
  return { a, b };
}

function record(target: Runtime): RuntimeEvent[] {
  const events: RuntimeEvent[] = [];
  target.events.subscribe((event) => events.push(event));
  return events;
}

function cluster(events: readonly RuntimeEvent[], node?: string): ClusterEvent[] {
  return events.filter(
    (event): event is ClusterEvent => event.type.startsWith('member-') && (node === undefined || (event as { node?: string }).node === node),
  );
}

function member(of: Node, id: string) {
  const found = of.members().find((m) => m.node === id);
  if (found === undefined) throw new Error(`${of.id} has no member ${id}`);
  return found;
}

type EchoMsg =
  | { readonly type: 'echo'; readonly text: string; readonly replyTo: ActorRef<string> }
  | { readonly type: 'double'; readonly v: Float32Array; readonly replyTo: ActorRef<{ readonly v: Float32Array; readonly n: number }> };

function spawnEcho(on: Runtime, name = 'echo'): ActorRef<EchoMsg> {
  return on.spawn(
    on.root,
    stateless<EchoMsg>((m) => {
      if (m.type === 'echo') dispatch(m.replyTo, `echo ${m.text}`);
      else dispatch(m.replyTo, { v: m.v.map((x) => x * 2), n: m.v.length });
    }),
    { name },
  );
}

/** An actor that keeps what it receives. */
function spawnSink<Msg>(on: Runtime, name: string): { readonly ref: ActorRef<Msg>; readonly got: Msg[] } {
  const got: Msg[] = [];
  const ref = on.spawn(on.root, stateless<Msg>((m) => void got.push(m)), { name });
  return { ref, got };
}

describe('remote refs', () => {
  it('asks and dispatches to an actor on another node with the typed API of a local ref', async () => {
    const { a, b } = await pair();
    spawnEcho(b.runtime);
    const sink = spawnSink<{ readonly n: number }>(b.runtime, 'sink');

    const echo = a.ref<EchoMsg>('b', '/echo');
    expectTypeOf(echo).toEqualTypeOf<ActorRef<EchoMsg>>();
    const reply = await ask(echo, (replyTo) => ({ type: 'echo', text: 'hi', replyTo }), 5_000);
    expectTypeOf(reply).toEqualTypeOf<string>();
    expect(reply).toBe('echo hi');

    const remoteSink = a.ref<{ readonly n: number }>('b', '/sink');
    // @ts-expect-error a remote ref refuses a message its actor does not take, as a local one does
    dispatch(remoteSink, { n: 'one' });
    for (let n = 0; n < 3; n++) dispatch(remoteSink, { n });
    await until('three messages at b/sink', () => sink.got.length >= 3);
    // The ill-typed message above is delivered too (types are erased): it proves only the compile-time check.
    expect(sink.got.slice(-3)).toEqual([{ n: 0 }, { n: 1 }, { n: 2 }]);
  });

  it('keeps Float32Array fields as Float32Array both ways', async () => {
    const { a, b } = await pair();
    spawnEcho(b.runtime);
    const v = new Float32Array([1, 2.5, -3.25, 1e-7]);
    const reply = await ask(a.ref<EchoMsg>('b', '/echo'), (replyTo) => ({ type: 'double', v, replyTo }), 5_000);
    expectTypeOf(reply).toEqualTypeOf<{ readonly v: Float32Array; readonly n: number }>();
    expect(reply.v).toBeInstanceOf(Float32Array);
    expect([...reply.v]).toEqual([...v].map((x) => x * 2));
    expect(reply.n).toBe(4);
  });

  it('carries refs inside messages: to the receiver’s own actor, back to the sender’s, and one-shot reply refs', async () => {
    const { a, b } = await pair();
    spawnEcho(b.runtime);
    type Via = { readonly type: 'via'; readonly target: ActorRef<EchoMsg>; readonly text: string; readonly replyTo: ActorRef<string> };
    b.runtime.spawn(
      b.runtime.root,
      stateless<Via>((m) => dispatch(m.target, { type: 'echo', text: m.text, replyTo: m.replyTo })),
      { name: 'relay' },
    );
    const relay = a.ref<Via>('b', '/relay');

    // A ref to b's own echo travels as b's path: b's relay sends to its local actor, which replies to a's ask.
    expect(await ask(relay, (replyTo) => ({ type: 'via', target: a.ref<EchoMsg>('b', '/echo'), text: 'one', replyTo }), 5_000)).toBe('echo one');

    // A ref to an actor of a travels to b and back: b's relay sends to a's local echo.
    const localEcho = spawnEcho(a.runtime, 'local-echo');
    expect(await ask(relay, (replyTo) => ({ type: 'via', target: localEcho, text: 'two', replyTo }), 5_000)).toBe('echo two');

    // A reply ref that is not a field named replyTo, kept in a plain object inside an array.
    type Nested = { readonly type: 'nested'; readonly hops: readonly { readonly to: ActorRef<string> }[] };
    b.runtime.spawn(
      b.runtime.root,
      stateless<Nested>((m) => {
        for (const hop of m.hops) dispatch(hop.to, 'reached');
      }),
      { name: 'nested' },
    );
    const collector = spawnSink<string>(a.runtime, 'collector');
    dispatch(a.ref<Nested>('b', '/nested'), { type: 'nested', hops: [{ to: collector.ref }, { to: collector.ref }] });
    await until('two replies at a/collector', () => collector.got.length === 2);
    expect(collector.got).toEqual(['reached', 'reached']);
  });

  it('turns a message to an unknown path on the remote node into a dead letter there', async () => {
    const { a, b } = await pair();
    const bEvents = record(b.runtime);
    dispatch(a.ref<string>('b', '/nobody'), 'lost');
    await until('a dead letter at b', () => bEvents.some((e) => e.type === 'dead-letter'));
    expect(bEvents.find((e) => e.type === 'dead-letter')).toMatchObject({ path: '/nobody', message: 'lost', reason: 'unknown' });
    // An ask to it times out on the asker's clock, naming the remote ref.
    await expect(ask(a.ref<{ replyTo: ActorRef<string> }>('b', '/nobody'), (replyTo) => ({ replyTo }), 200)).rejects.toBeInstanceOf(AskTimeoutError);
  });

  it('delivers a burst in the order it was sent, batched or not, with a message too large for a frame in the middle', async () => {
    const { a, b } = await pair({ a: { limits: { maxFrameBytes: 64 * 1024 } }, b: { limits: { maxFrameBytes: 64 * 1024 } } });
    const sink = spawnSink<{ readonly n: number; readonly v?: Float32Array }>(b.runtime, 'sink');
    const ref = a.ref<{ readonly n: number; readonly v?: Float32Array }>('b', '/sink');
    for (let n = 0; n < 2_000; n++) dispatch(ref, n === 700 ? { n, v: new Float32Array(100_000) } : { n });
    await until('1,999 messages at b/sink', () => sink.got.length === 1_999);
    expect(sink.got.map((m) => m.n)).toEqual(Array.from({ length: 2_000 }, (_, n) => n).filter((n) => n !== 700));
    expect(member(a, 'b').counters).toMatchObject({ undeliverable: 1, sent: 1_999 });
  });

  it('turns a message too large for a frame into a local dead letter and keeps the session', async () => {
    const { a, b } = await pair({ a: { limits: { maxFrameBytes: 64 * 1024 } }, b: { limits: { maxFrameBytes: 64 * 1024 } } });
    spawnEcho(b.runtime);
    const sink = spawnSink<{ readonly v: Float32Array }>(b.runtime, 'sink');
    const aEvents = record(a.runtime);
    dispatch(a.ref<{ readonly v: Float32Array }>('b', '/sink'), { v: new Float32Array(100_000) });
    dispatch(a.ref<{ readonly v: Float32Array }>('b', '/sink'), { v: new Float32Array(3) });
    await until('the small message at b/sink', () => sink.got.length === 1);
    expect(sink.got[0]!.v).toHaveLength(3);
    expect(aEvents.filter((e) => e.type === 'dead-letter')).toHaveLength(1);
    expect(cluster(aEvents, 'b').map((e) => e.type)).toEqual([]);
    // The small message's acknowledgement comes back a little after it is delivered.
    await until('b acknowledged the small message', () => member(a, 'b').counters.outbox === 0);
    expect(member(a, 'b').counters).toMatchObject({ undeliverable: 1, outbox: 0 });
    expect(await ask(a.ref<EchoMsg>('b', '/echo'), (replyTo) => ({ type: 'echo', text: 'still', replyTo }), 5_000)).toBe('echo still');
  });

  it('turns a cyclic message, or one nested too deep, into a counted local dead letter: dispatch and ask never throw', async () => {
    const { a, b } = await pair();
    spawnEcho(b.runtime);
    const sink = spawnSink<unknown>(b.runtime, 'sink');
    const aEvents = record(a.runtime);
    const ref = a.ref<unknown>('b', '/sink');
    const cyclic: { self?: unknown } = {};
    cyclic.self = cyclic;
    const nest = (levels: number): unknown => {
      let value: unknown = { leaf: true };
      for (let i = 1; i < levels; i++) value = { next: value };
      return value;
    };

    expect(() => dispatch(ref, cyclic)).not.toThrow();
    expect(() => dispatch(ref, nest(20_000))).not.toThrow();
    expect(() => dispatch(ref, nest(MAX_DEPTH + 1))).not.toThrow();
    const asked = ask(a.ref<{ replyTo: ActorRef<string>; cyclic: unknown }>('b', '/sink'), (replyTo) => ({ replyTo, cyclic }), 200);
    await expect(asked).rejects.toBeInstanceOf(AskTimeoutError);
    dispatch(ref, nest(MAX_DEPTH));
    await until('the message nested MAX_DEPTH levels at b/sink', () => sink.got.length === 1);

    expect(aEvents.flatMap((e) => (e.type === 'dead-letter' ? [[e.path, e.reason]] : []))).toEqual(
      Array(4).fill(['swarmbank://b/sink', 'unreachable']),
    );
    expect(a.runtime.metrics().deadLetters).toBe(4);
    expect(member(a, 'b').counters).toMatchObject({ undeliverable: 4 });
    expect(await ask(a.ref<EchoMsg>('b', '/echo'), (replyTo) => ({ type: 'echo', text: 'still', replyTo }), 5_000)).toBe('echo still');
  });
});

describe('membership', () => {
  it('publishes member-up on both sides, with the address and protocol', async () => {
    const b = await node('b');
    const ra = runtime('a');
    const aEvents = record(ra);
    const bEvents = record(b.runtime);
    const a = await node('a', { runtime: ra, peers: [peerOf(b)] });
    await until('member-up on both sides', () => cluster(aEvents, 'b').length > 0 && cluster(bEvents, 'a').length > 0);
    expect(cluster(aEvents, 'b')[0]).toMatchObject({ type: 'member-up', node: 'b', address: peerOf(b), protocol: 'webtransport-http2' });
    expect(cluster(bEvents, 'a')[0]).toMatchObject({ type: 'member-up', node: 'a', address: expect.stringMatching(/^127\.0\.0\.1:\d+$/) });
    expect(a.up()).toEqual(['b']);
    expect(b.up()).toEqual(['a']);
    expect(member(a, 'b')).toMatchObject({ status: 'up', incarnation: b.incarnation });
    expect(member(b, 'a')).toMatchObject({ status: 'up', incarnation: a.incarnation });
  });

  it('refuses, on both sides and by name, a peer whose frame limit differs, and never lets it up', async () => {
    const rb = runtime('b');
    const ra = runtime('a');
    const bEvents = record(rb);
    const aEvents = record(ra);
    const b = await node('b', { runtime: rb, limits: { maxFrameBytes: 64 * 1024 } });
    const a = await node('a', { runtime: ra, peers: [peerOf(b)] });
    await until('a refused b', () => aEvents.some((e) => e.type === 'peer-refused' && e.reason === 'frame-limit'));
    expect(a.up()).toEqual([]);
    expect(b.up()).toEqual([]);
    expect(a.counters().refused['frame-limit']).toBeGreaterThan(0);
    expect(cluster(bEvents, 'a').filter((e) => e.type === 'member-up')).toEqual([]);
  });

  it('settles on one session when two nodes dial each other', async () => {
    const portOfA = await freePort();
    const ra = runtime('a');
    const rb = runtime('b');
    const aEvents = record(ra);
    const bEvents = record(rb);
    const b = await node('b', { runtime: rb, peers: [`127.0.0.1:${portOfA}`] });
    const a = await node('a', { runtime: ra, listen: { host: '127.0.0.1', port: portOfA }, peers: [peerOf(b)] });
    await Promise.all([a.whenUp('b'), b.whenUp('a')]);
    // Both dialled: each side keeps the session dialled by the smaller id, and neither keeps flapping.
    await sleep(200);
    const settled = [cluster(aEvents).length, cluster(bEvents).length];
    await sleep(500);
    expect([cluster(aEvents).length, cluster(bEvents).length]).toEqual(settled);
    expect(a.up()).toEqual(['b']);
    expect(b.up()).toEqual(['a']);
    const echo = spawnEcho(rb);
    void echo;
    expect(await ask(a.ref<EchoMsg>('b', '/echo'), (replyTo) => ({ type: 'echo', text: 'one', replyTo }), 5_000)).toBe('echo one');
  });

  it('publishes member-down when the peer stops, and the peer sees it leave', async () => {
    const { a, b } = await pair();
    const aEvents = record(a.runtime);
    await b.stop();
    await until('member-down at a', () => cluster(aEvents, 'b').some((e) => e.type === 'member-down'));
    expect(cluster(aEvents, 'b').find((e) => e.type === 'member-down')).toMatchObject({ reason: 'left' });
    expect(a.up()).toEqual([]);
    expect(member(a, 'b').status).toBe('down');
  });

  it('declares a peer whose heartbeats stop unreachable after failureTimeoutMs, then down', async () => {
    const b = await node('b');
    const bEvents = record(b.runtime);
    // A peer that proves the secret and then says nothing, not even pongs.
    const session = await webTransport().connect(`https://${peerOf(b)}/swarmbank`, { serverCertificateHashes: [fixture.certificate.hash], timeoutMs: 5_000 });
    fixture.track(session);
    let closed = false;
    void session.closed.then(() => {
      closed = true;
    });
    const channel = await session.openChannel();
    await dialHandshake(channel, channel.messages(), {
      own: { node: 'mute', incarnation: 'm1' },
      secret: new TextEncoder().encode(SECRET),
      maxFrameBytes: 1 << 20,
      timeoutMs: 2_000,
    });
    const upAt = Date.now();
    await until('member-unreachable for mute', () => cluster(bEvents, 'mute').some((e) => e.type === 'member-unreachable'), 3_000);
    const elapsed = Date.now() - upAt;
    const events = cluster(bEvents, 'mute');
    expect(events.map((e) => e.type)).toEqual(['member-up', 'member-unreachable', 'member-down']);
    const unreachable = events[1] as Extract<ClusterEvent, { type: 'member-unreachable' }>;
    expect(unreachable.silentMs).toBeGreaterThan(FAST.failureTimeoutMs);
    // Found at the first heartbeat past the timeout (with room for a loaded machine's late timers).
    expect(unreachable.silentMs).toBeLessThan(FAST.failureTimeoutMs + 10 * FAST.heartbeatMs);
    expect(elapsed).toBeGreaterThanOrEqual(FAST.failureTimeoutMs);
    await until('session closed by b', () => closed);
  });

  it('reconnects with backoff after the peer restarts on the same port, as a new incarnation', async () => {
    const { a, b } = await pair();
    const port = b.address!.port;
    const first = b.incarnation;
    const aEvents = record(a.runtime);
    await b.stop();
    await until('member-down at a', () => cluster(aEvents, 'b').some((e) => e.type === 'member-down'));
    const failuresBefore = a.counters().dialFailures;
    // While b is away, a keeps dialling, backing off up to reconnect.maxMs.
    await sleep(600);
    const failed = a.counters().dialFailures - failuresBefore;
    expect(failed).toBeGreaterThanOrEqual(2);
    // Without backoff it would be ~30 attempts in 600 ms at 20 ms; with doubling to 200 ms, far fewer.
    expect(failed).toBeLessThan(15);

    const again = await node('b', { listen: { host: '127.0.0.1', port } });
    spawnEcho(again.runtime);
    await a.whenUp('b', 3_000);
    expect(again.incarnation).not.toBe(first);
    expect(member(a, 'b').incarnation).toBe(again.incarnation);
    expect(await ask(a.ref<EchoMsg>('b', '/echo'), (replyTo) => ({ type: 'echo', text: 'back', replyTo }), 5_000)).toBe('echo back');
  });
  it('does not let a reply queued for a previous incarnation resolve an ask of the new one', async () => {
    const { a, b } = await pair();
    const slow = b.runtime.spawn(b.runtime.root, stateless<EchoMsg>((m) => void setTimeout(() => dispatch(m.replyTo as ActorRef<string>, 'stale'), 600)), { name: 'slow' });
    b.runtime.spawn(b.runtime.root, stateless<EchoMsg>(() => undefined), { name: 'never' });
    const old = ask(a.ref<EchoMsg>('b', '/slow'), (replyTo) => ({ type: 'echo', text: 'x', replyTo }), 2_000).catch((error: unknown) => error);
    await until('the ask at b', () => (b.runtime.metricsOf(slow)?.processed ?? 0) >= 1);
    await a.stop();
    // a comes back as a new incarnation; b's reply to the old one's ask is still in b's outbox for a.
    const ra = runtime('a2');
    const aEvents = record(ra);
    const again = await node('a', { runtime: ra, peers: [peerOf(b)], listen: undefined });
    await again.whenUp('b');
    const fresh = ask(again.ref<EchoMsg>('b', '/never'), (replyTo) => ({ type: 'echo', text: 'y', replyTo }), 1_000);
    await expect(fresh).rejects.toBeInstanceOf(AskTimeoutError);
    // The stale reply did reach the new incarnation, as a dead letter.
    expect(aEvents.find((e) => e.type === 'dead-letter')).toMatchObject({ message: 'stale', reason: 'unknown' });
    void old;
  });
});

describe('delivery across cuts', () => {
  it('delivers every message exactly once to the actor when the session is cut while they are in flight', async () => {
    const { a, b } = await pair();
    const seen = new Map<number, number>();
    b.runtime.spawn(b.runtime.root, stateless<{ readonly id: number; readonly pad: string }>((m) => void seen.set(m.id, (seen.get(m.id) ?? 0) + 1)), { name: 'count' });
    const ref = a.ref<{ readonly id: number; readonly pad: string }>('b', '/count');
    const total = 10_000;
    const pad = 'p'.repeat(100);
    for (let id = 0; id < total; id++) dispatch(ref, { id, pad });

    // Cut three times while messages flow, from either side, then heal.
    for (const [cutter, other, at] of [[a, 'b', 1_000], [b, 'a', 4_000], [a, 'b', 7_000]] as const) {
      await until(`${at} messages at b`, () => seen.size >= at, 10_000);
      cutter.partition([other]);
      await sleep(30);
      cutter.heal();
      await Promise.all([a.whenUp('b', 5_000), b.whenUp('a', 5_000)]);
    }
    await until('every message at b', () => seen.size === total, 15_000);
    await until('a acknowledged', () => member(a, 'b').counters.outbox === 0);
    expect([...seen.values()].every((count) => count === 1)).toBe(true);

    const sent = member(a, 'b').counters;
    const received = member(b, 'a').counters;
    expect(sent.retransmitted).toBeGreaterThan(0);
    // Every message written once, plus once per retransmission.
    expect(sent.sent).toBe(total + sent.retransmitted);
    expect(received.delivered).toBe(total);
    // A duplicate is a retransmission the receiver had already delivered.
    expect(received.duplicates).toBeLessThanOrEqual(sent.retransmitted);
    expect(received.delivered + received.duplicates).toBeLessThanOrEqual(sent.sent);
    expect(sent.undeliverable).toBe(0);
  }, 25_000);

  it('holds messages sent during a partition and delivers them after heal', async () => {
    const { a, b } = await pair();
    spawnEcho(b.runtime);
    const sink = spawnSink<number>(b.runtime, 'sink');
    const aEvents = record(a.runtime);
    a.partition(['b']);
    await until('b down at a', () => !a.up().includes('b'));
    const ref = a.ref<number>('b', '/sink');
    for (let n = 0; n < 50; n++) dispatch(ref, n);
    const pending = ask(a.ref<EchoMsg>('b', '/echo'), (replyTo) => ({ type: 'echo', text: 'later', replyTo }), 5_000);
    await sleep(300);
    expect(sink.got).toEqual([]);
    expect(member(a, 'b').counters.outbox).toBe(51);
    // Cut off means no session: a does not even let b up for a moment.
    expect(cluster(aEvents, 'b').filter((e) => e.type === 'member-up')).toEqual([]);
    a.heal();
    expect(await pending).toBe('echo later');
    await until('50 messages at b/sink', () => sink.got.length === 50);
    expect(sink.got).toEqual(Array.from({ length: 50 }, (_, n) => n));
  });

  it('keeps at most limits.maxOutbox messages for an absent peer; the rest become dead letters at once', async () => {
    const { a, b } = await pair({ a: { limits: { maxOutbox: 10 } } });
    const sink = spawnSink<number>(b.runtime, 'sink');
    const aEvents = record(a.runtime);
    a.partition(['b']);
    for (let n = 0; n < 15; n++) dispatch(a.ref<number>('b', '/sink'), n);
    const dead = aEvents.filter((e) => e.type === 'dead-letter');
    expect(dead.map((e) => (e as { message: unknown }).message)).toEqual([10, 11, 12, 13, 14]);
    expect(dead.every((e) => (e as { reason: string }).reason === 'unreachable')).toBe(true);
    expect(member(a, 'b').counters).toMatchObject({ outbox: 10, undeliverable: 5 });
    a.heal();
    await until('10 messages at b/sink', () => sink.got.length === 10);
    expect(sink.got).toEqual(Array.from({ length: 10 }, (_, n) => n));
  });

  it('refuses the cut-off peer’s sessions during a partition on the listening side, without letting it up', async () => {
    const { a, b } = await pair();
    const sink = spawnSink<number>(b.runtime, 'sink');
    const aEvents = record(a.runtime);
    b.partition(['a']);
    await until('b down at a', () => !a.up().includes('b'));
    dispatch(a.ref<number>('b', '/sink'), 1);
    // a keeps dialling b, and b refuses it at the handshake: a never sees b up, b never counts it as a bad peer.
    await sleep(500);
    expect(cluster(aEvents, 'b').filter((e) => e.type === 'member-up')).toEqual([]);
    expect(sink.got).toEqual([]);
    expect(Object.values(b.counters().refused).reduce((x, y) => x + y, 0)).toBe(0);
    b.heal();
    await until('the held message at b/sink', () => sink.got.length === 1, 3_000);
    expect(sink.got).toEqual([1]);
  });
});

describe('certificates', () => {
  it('rotates its certificate: peers learn the new hash first and dial it again; a peer pinning only the old one is refused', async () => {
    const own = await generateCertificate();
    const b = await node('b', { certificate: own });
    const a = await node('a', { certificate: await generateCertificate(), peers: [`${peerOf(b)}#${Buffer.from(own.hash).toString('hex')}`] });
    await Promise.all([a.whenUp('b', 5_000), b.whenUp('a', 5_000)]);
    const next = await b.rotateCertificate();
    expect(b.certificate.hash).toEqual(next.hash);
    expect(next.hash).not.toEqual(own.hash);
    // Give the announcement time to arrive, then cut and heal: a dials b again and meets the new certificate.
    await sleep(200);
    b.partition(['a']);
    await until('a to see b down', () => !a.up().includes('b'));
    b.heal();
    await a.whenUp('b', 5_000);
    spawnEcho(b.runtime);
    expect(await ask(a.ref<EchoMsg>('b', '/echo'), (replyTo) => ({ type: 'echo', text: 'rotated', replyTo }), 5_000)).toBe('echo rotated');
    // A newcomer that pins only b's old certificate cannot connect any more.
    const stale = await node('c', { certificate: await generateCertificate(), listen: undefined, peers: [`${peerOf(b)}#${Buffer.from(own.hash).toString('hex')}`] });
    await until('c to fail a dial', () => stale.counters().dialFailures > 0);
    expect(stale.up()).toEqual([]);
  });
});

describe('node configuration', () => {
  const rt = () => runtime('config');

  it.each([
    ['id', { id: '' }],
    ['id', { id: '-leading-dash' }],
    ['id', { id: 'has space' }],
    ['id', { id: 'x'.repeat(65) }],
    ['secret', { secret: 'short' }],
    ['secret', { secret: new Uint8Array(15) }],
    ['peers[1]', { peers: ['127.0.0.1:4433', 'no-port'] }],
    ['listen.port', { listen: { host: '127.0.0.1', port: 70_000 } }],
    ['failureTimeoutMs', { heartbeatMs: 100, failureTimeoutMs: 200 }],
    ['heartbeatMs', { heartbeatMs: 0 }],
    ['reconnect.maxMs', { reconnect: { minMs: 100, maxMs: 50 } }],
    ['limits.maxPendingAsks', { limits: { maxPendingAsks: -1 } }],
    // Node's timers turn a delay above 2^31 − 1 ms into 1 ms: a heartbeat of 3e9 ms would spin.
    ['heartbeatMs', { heartbeatMs: 3e9 }],
    ['failureTimeoutMs', { failureTimeoutMs: MAX_TIMER_MS + 1 }],
    ['handshakeTimeoutMs', { handshakeTimeoutMs: 3e9 }],
    ['reconnect.minMs', { reconnect: { minMs: 3e9, maxMs: 4e9 } }],
    ['reconnect.maxMs', { reconnect: { minMs: 100, maxMs: 3e9 } }],
    ['reconnect.maxMs', { reconnect: { minMs: 100, maxMs: Number.POSITIVE_INFINITY } }],
    ['limits.askTtlMs', { limits: { askTtlMs: 3e9 } }],
  ] as const)('refuses a bad %s with a NodeConfigError naming it', async (key, bad) => {
    const error = await startNode({ id: 'ok', runtime: rt(), secret: SECRET, certificate: fixture.certificate, ...bad } as NodeOptions).then(
      (started) => {
        fixture.track(started);
        return undefined;
      },
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(NodeConfigError);
    expect(error).toMatchObject({ code: 'NODE_CONFIG_INVALID', key });
    expect((error as Error).message.startsWith(`${key}: `)).toBe(true);
  });

  it('accepts every millisecond option up to 2^31 − 1 ms, the longest a timer waits', async () => {
    const started = fixture.track(
      await startNode({
        id: 'patient',
        runtime: rt(),
        secret: SECRET,
        certificate: fixture.certificate,
        protocol: 'http2',
        listen: { host: '127.0.0.1', port: 0 },
        failureTimeoutMs: MAX_TIMER_MS,
        handshakeTimeoutMs: MAX_TIMER_MS,
        reconnect: { minMs: MAX_TIMER_MS, maxMs: MAX_TIMER_MS },
        limits: { askTtlMs: MAX_TIMER_MS },
      }),
    );
    expect(started.address?.port).toBeGreaterThan(0);
  });

  it('parses peers as host:port, [v6]:port, with an optional certificate pin', () => {
    expect(parsePeer('127.0.0.1:4433')).toEqual({ host: '127.0.0.1', port: 4433 });
    expect(parsePeer(' node-b.local:1 ')).toEqual({ host: 'node-b.local', port: 1 });
    expect(parsePeer('[::1]:4433')).toEqual({ host: '::1', port: 4433 });
    const pinned = parsePeer(`10.0.0.2:4433#${'ab'.repeat(32)}`);
    expect(pinned.certificateHash).toEqual(new Uint8Array(32).fill(0xab));
    for (const bad of ['127.0.0.1', '127.0.0.1:', ':4433', '127.0.0.1:0', '127.0.0.1:65536', '::1:4433', `h:1#${'ab'.repeat(31)}`, 'h:1#zz', 'a b:1']) {
      expect(() => parsePeer(bad, 'peers[0]'), bad).toThrow(NodeConfigError);
    }
    expect(() => parsePeer('nope', 'peers[3]')).toThrow(/^peers\[3\]: /);
  });
});

const http3 = await detectHttp3();

describe('HTTP/3', () => {
  it.skipIf(!http3.available)(`asks across two nodes over HTTP/3 (QUIC)${http3.available ? '' : ` — skipped: ${http3.reason ?? 'unavailable'}`}`, async () => {
    const { a, b } = await pair({ a: { protocol: 'quic' }, b: { protocol: 'quic' } });
    expect(b.protocol).toBe('webtransport-http3');
    spawnEcho(b.runtime);
    expect(await ask(a.ref<EchoMsg>('b', '/echo'), (replyTo) => ({ type: 'echo', text: 'quic', replyTo }), 5_000)).toBe('echo quic');
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
