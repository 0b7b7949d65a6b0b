import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { type ActorRef, type PeerRefusal, type RuntimeEvent, ask, dispatch, stateless } from '../../src/index.js';
import { AskTimeoutError } from '../../src/actors/errors.js';
import { generateCertificate } from '../../src/net/certificate.js';
import { dialHandshake } from '../../src/net/handshake.js';
import type { Node } from '../../src/net/node.js';
import { NONCE_BYTES, PROTOCOL_VERSION } from '../../src/net/protocol.js';
import type { TransportSession } from '../../src/net/transport.js';
import { webTransport } from '../../src/net/webtransport.js';
import { REF_MARKER } from '../../src/net/wire-refs.js';
import { SECRET, sendRawBytes, sleep, until, useNodes } from './support.js';

/**
 * A node `b` serving a good peer `a`, while misbehaving clients (raw
 * Transport sessions, or nodes with the wrong secret or certificate) try it.
 * Each is refused, counted in `counters().refused` and published as
 * `peer-refused`, and `a` keeps being served throughout.
 */

const HANDSHAKE_MS = 300;
const LIMITS = { maxFrameBytes: 64 * 1024, maxPendingAsks: 10, maxMessagesPerSecond: 300 };
const FAST = { heartbeatMs: 50, failureTimeoutMs: 400, handshakeTimeoutMs: HANDSHAKE_MS, reconnect: { minMs: 20, maxMs: 200 } } as const;

const fixture = useNodes(FAST);
const { node } = fixture;

type EchoMsg = { readonly text: string; readonly replyTo: ActorRef<string> };

interface Served {
  readonly a: Node;
  readonly b: Node;
  /** What b's actor `/sink` received. */
  readonly sink: unknown[];
  /** Everything published on b's runtime. */
  readonly events: RuntimeEvent[];
  readonly url: string;
  /** Asks b's echo through the good peer and checks that a never went down at b. */
  goodPeerServed(text?: string): Promise<void>;
}

/** Node b (listening, with /echo, /sink and /never) and a good peer a dialling it. */
async function served(): Promise<Served> {
  const b = await node('b', { limits: LIMITS });
  const events: RuntimeEvent[] = [];
  b.runtime.events.subscribe((event) => events.push(event));
  b.runtime.spawn(b.runtime.root, stateless<EchoMsg>((m) => dispatch(m.replyTo, `echo ${m.text}`)), { name: 'echo' });
  const sink: unknown[] = [];
  b.runtime.spawn(b.runtime.root, stateless<unknown>((m) => void sink.push(m)), { name: 'sink' });
  b.runtime.spawn(b.runtime.root, stateless<unknown>(() => undefined), { name: 'never' });
  const a = await node('a', { peers: [`127.0.0.1:${b.address!.port}`], limits: LIMITS });
  await a.whenUp('b', 5_000);
  const echo = a.ref<EchoMsg>('b', '/echo');
  return {
    a,
    b,
    sink,
    events,
    url: `https://127.0.0.1:${b.address!.port}/swarmbank`,
    async goodPeerServed(text = 'still here') {
      expect(await ask(echo, (replyTo) => ({ text, replyTo }), 5_000)).toBe(`echo ${text}`);
      expect(a.up()).toEqual(['b']);
      expect(events.filter((e) => e.type === 'member-down' && e.node === 'a')).toEqual([]);
    },
  };
}

/** A raw client session to b, playing by no rules. */
async function raw(url: string, options: { maxFrameBytes?: number } = {}): Promise<{ session: TransportSession; closed: () => boolean }> {
  const session = await webTransport(options).connect(url, { serverCertificateHashes: [fixture.certificate.hash], timeoutMs: 5_000 });
  fixture.track(session);
  let isClosed = false;
  void session.closed.then(() => {
    isClosed = true;
  });
  return { session, closed: () => isClosed };
}

/** A raw client that proves the secret as node `id`, then misbehaves on the channel it returns. */
async function authenticated(url: string, id = 'mallory', options: { maxFrameBytes?: number } = {}) {
  const client = await raw(url, options);
  const channel = await client.session.openChannel();
  const frames = channel.messages();
  await dialHandshake(channel, frames, { own: { node: id, incarnation: 'i1' }, secret: new TextEncoder().encode(SECRET), maxFrameBytes: LIMITS.maxFrameBytes, timeoutMs: 2_000 });
  // Read (and drop) what b sends, so its heartbeats never back up.
  void (async () => {
    try {
      for (;;) if ((await frames.next()).done) return;
    } catch {
      // Closed by b.
    }
  })();
  return { ...client, channel };
}

/** Waits until b counted and published a refusal for `reason`; returns how many it counted. */
async function refused(env: Served, reason: PeerRefusal, timeoutMs = 5_000): Promise<number> {
  await until(`a ${reason} refusal`, () => env.b.counters().refused[reason] >= 1 && env.events.some((e) => e.type === 'peer-refused' && e.reason === reason), timeoutMs);
  const others = Object.entries(env.b.counters().refused).filter(([key, count]) => key !== reason && count > 0);
  expect(others, 'no refusal for another reason').toEqual([]);
  return env.b.counters().refused[reason];
}

describe('bad peers', () => {
  it('refuses a session that sends no hello within the handshake timeout, serving the good peer meanwhile', async () => {
    const env = await served();
    const started = Date.now();
    const silent = await raw(env.url);
    const channel = await silent.session.openChannel();
    void channel;
    await env.goodPeerServed('during');
    expect(await refused(env, 'handshake-timeout')).toBe(1);
    expect(Date.now() - started).toBeGreaterThanOrEqual(HANDSHAKE_MS - 20);
    await until('the silent session closed', silent.closed);
    expect(env.events.find((e) => e.type === 'peer-refused')).toMatchObject({ address: expect.stringMatching(/^127\.0\.0\.1:\d+$/) });
    await env.goodPeerServed('after');
  });

  it('refuses a node with the wrong secret: it never comes up on either side', async () => {
    const env = await served();
    const eve = await node('eve', { secret: 'not-the-cluster-secret', peers: [`127.0.0.1:${env.b.address!.port}`] });
    expect(await refused(env, 'bad-token')).toBeGreaterThanOrEqual(1);
    await until('eve failed to dial', () => eve.counters().dialFailures >= 1);
    expect(eve.up()).toEqual([]);
    expect(env.b.up()).toEqual(['a']);
    expect(env.events.filter((e) => e.type === 'member-up' && e.node === 'eve')).toEqual([]);
    await env.goodPeerServed();
  });

  it('refuses a client whose proof is not the HMAC of our nonce under the secret', async () => {
    const env = await served();
    const client = await raw(env.url);
    const channel = await client.session.openChannel();
    const frames = channel.messages();
    await channel.send({ t: 'hello', v: PROTOCOL_VERSION, node: 'forger', incarnation: 'f1', frame: LIMITS.maxFrameBytes, nonce: randomBytes(NONCE_BYTES) });
    const challenge = (await frames.next()).value as { t: string };
    expect(challenge.t).toBe('challenge');
    await channel.send({ t: 'auth', proof: randomBytes(32) });
    expect(await refused(env, 'bad-token')).toBe(1);
    await until('the forger closed', client.closed);
    expect(env.b.up()).toEqual(['a']);
    await env.goodPeerServed();
  });

  it('refuses a client that skips the handshake and sends a deliver first, and delivers nothing', async () => {
    const env = await served();
    const client = await raw(env.url);
    const channel = await client.session.openChannel();
    await channel.send({ t: 'deliver', id: 1, to: '/sink', msg: 'smuggled' });
    await channel.send({ t: 'deliver', id: 2, to: '/sink', msg: 'smuggled again' });
    expect(await refused(env, 'bad-token')).toBe(1);
    await until('the smuggler closed', client.closed);
    await sleep(100);
    expect(env.sink).toEqual([]);
    expect(env.events.filter((e) => e.type === 'dead-letter')).toEqual([]);
    await env.goodPeerServed();
  });

  it('refuses garbage bytes that are no msgpack frame', async () => {
    const env = await served();
    // A well-sized frame whose body is not msgpack (0xc1 is never used).
    const client = await sendRawBytes(env.url, fixture.certificate.hash, new Uint8Array([0, 0, 0, 4, 0xc1, 0xc1, 0xc1, 0xc1]));
    let closed = false;
    void client.closed.then(() => (closed = true));
    try {
      expect(await refused(env, 'bad-frame')).toBe(1);
      await until('the garbage session closed', () => closed);
    } finally {
      client.close();
    }
    await env.goodPeerServed();
  });

  it('refuses frames that decode but are no protocol message, before and after the handshake', async () => {
    const env = await served();
    const before = await raw(env.url);
    await (await before.session.openChannel()).send({ t: 'hello', v: PROTOCOL_VERSION, node: 'x', incarnation: 'i', frame: LIMITS.maxFrameBytes, nonce: 'not bytes' });
    expect(await refused(env, 'bad-frame')).toBe(1);
    await until('the first session closed', before.closed);

    const after = await authenticated(env.url);
    await until('mallory up at b', () => env.b.up().includes('mallory'));
    await after.channel.send({ t: 'deliver', id: -1, to: '/sink', msg: 'bad id' });
    await until('a second bad-frame', () => env.b.counters().refused['bad-frame'] === 2);
    await until('the second session closed', after.closed);

    // A ref naming no valid node id would otherwise become a member of its own.
    const third = await authenticated(env.url, 'mallory2');
    await third.channel.send({ t: 'deliver', id: 1, to: '/sink', msg: { to: { [REF_MARKER]: ['../../etc', '/x'] } } });
    await until('a third bad-frame', () => env.b.counters().refused['bad-frame'] === 3);
    expect(env.b.members().map((m) => m.node).sort()).toEqual(['a', 'mallory', 'mallory2']);
    expect(env.sink).toEqual([]);
    expect(env.events.filter((e) => e.type === 'peer-refused').map((e) => (e as { node?: string }).node)).toEqual([undefined, 'mallory', 'mallory2']);
    await env.goodPeerServed();
  });

  it('refuses a frame over limits.maxFrameBytes without reading it, before and after the handshake', async () => {
    const env = await served();
    const big = 'x'.repeat(LIMITS.maxFrameBytes + 1_000);
    const before = await raw(env.url, { maxFrameBytes: 1 << 22 });
    await (await before.session.openChannel()).send(big);
    expect(await refused(env, 'bad-frame')).toBe(1);
    await until('the first session closed', before.closed);

    const after = await authenticated(env.url, 'mallory', { maxFrameBytes: 1 << 22 });
    await after.channel.send({ t: 'deliver', id: 1, to: '/sink', msg: big });
    await until('a second bad-frame', () => env.b.counters().refused['bad-frame'] === 2);
    await until('the second session closed', after.closed);
    expect(env.sink).toEqual([]);
    await env.goodPeerServed();
  });

  it('refuses asks beyond limits.maxPendingAsks from a flooding peer, without delivering them', async () => {
    const env = await served();
    const c = await node('c', { peers: [`127.0.0.1:${env.b.address!.port}`], limits: LIMITS });
    await c.whenUp('b');
    const never = c.ref<EchoMsg>('b', '/never');
    const flood = Array.from({ length: LIMITS.maxPendingAsks + 5 }, (_, i) =>
      ask(never, (replyTo) => ({ text: `${i}`, replyTo }), 1_000).catch((error: unknown) => error),
    );
    expect(await refused(env, 'too-many-asks')).toBeGreaterThanOrEqual(1);
    // The good peer's asks have their own budget.
    await env.goodPeerServed('during');
    const outcomes = await Promise.all(flood);
    expect(outcomes.every((outcome) => outcome instanceof AskTimeoutError)).toBe(true);
    const atB = env.b.members().find((m) => m.node === 'c')!;
    expect(atB.counters.asksRefused).toBe(5);
    expect(env.b.counters().refused['too-many-asks']).toBe(5);
    expect(atB.counters.delivered).toBe(LIMITS.maxPendingAsks);
    // Refused asks are not a closed session: published once, and c stays up.
    expect(env.events.filter((e) => e.type === 'peer-refused')).toMatchObject([{ node: 'c', reason: 'too-many-asks' }]);
    expect(c.up()).toEqual(['b']);
    await env.goodPeerServed('after');
  });

  it('frees a pending ask slot once askTtlMs passes without a reply', async () => {
    const b = await node('b', { limits: { ...LIMITS, maxPendingAsks: 2, askTtlMs: 300 } });
    const seen: string[] = [];
    b.runtime.spawn(b.runtime.root, stateless<EchoMsg>((m) => void seen.push(m.text)), { name: 'never' });
    const c = await node('c', { peers: [`127.0.0.1:${b.address!.port}`], limits: { maxFrameBytes: LIMITS.maxFrameBytes } });
    await c.whenUp('b');
    const never = c.ref<EchoMsg>('b', '/never');
    const asks = ['1', '2', '3'].map((text) => ask(never, (replyTo) => ({ text, replyTo }), 200).catch(() => undefined));
    await Promise.all(asks);
    expect(seen).toEqual(['1', '2']);
    expect(b.counters().refused['too-many-asks']).toBe(1);
    // The two unanswered asks expire at b after askTtlMs (swept at a heartbeat): there is room again.
    await sleep(300 + 2 * FAST.heartbeatMs);
    await ask(never, (replyTo) => ({ text: '4', replyTo }), 200).catch(() => undefined);
    expect(seen).toEqual(['1', '2', '4']);
    expect(b.counters().refused['too-many-asks']).toBe(1);
  });

  it('closes the session of a peer over limits.maxMessagesPerSecond', async () => {
    const env = await served();
    const flooder = await authenticated(env.url);
    const total = LIMITS.maxMessagesPerSecond * 5;
    for (let id = 1; id <= total; id++) void flooder.channel.send({ t: 'deliver', id, to: '/sink', msg: id }).catch(() => undefined);
    expect(await refused(env, 'rate-limit')).toBe(1);
    await until('the flooder closed', flooder.closed);
    await sleep(50);
    // About one second's burst got through before the session was closed (plus what the bucket refilled meanwhile).
    expect(env.sink.length).toBeLessThanOrEqual(LIMITS.maxMessagesPerSecond * 1.5);
    expect(env.sink.length).toBeGreaterThan(0);
    expect(env.events.find((e) => e.type === 'peer-refused')).toMatchObject({ node: 'mallory', reason: 'rate-limit' });
    await env.goodPeerServed();
  });

  it('refuses a peer claiming our own id, or the id of a member up now', async () => {
    const env = await served();
    await expect(authenticated(env.url, 'b')).rejects.toMatchObject({ code: 'HANDSHAKE_FAILED' });
    expect(await refused(env, 'duplicate-node')).toBe(1);
    // An impostor of a, with the secret but another incarnation, does not replace the live a.
    await expect(authenticated(env.url, 'a')).rejects.toMatchObject({ code: 'HANDSHAKE_FAILED' });
    await until('a second duplicate-node', () => env.b.counters().refused['duplicate-node'] === 2);
    expect(env.b.members().find((m) => m.node === 'a')?.incarnation).toBe(env.a.incarnation);
    await env.goodPeerServed();
  });

  it('never lets up a peer whose certificate is not pinned, and counts the failed dials', async () => {
    const other = await generateCertificate();
    const d = await node('d', { certificate: other });
    const dEvents: RuntimeEvent[] = [];
    d.runtime.events.subscribe((event) => dEvents.push(event));
    // a pins the cluster certificate (its own) by default: d's does not match.
    const a = await node('a', { peers: [`127.0.0.1:${d.address!.port}`] });
    await until('two failed dials', () => a.counters().dialFailures >= 2, 5_000);
    expect(a.up()).toEqual([]);
    expect(a.members()).toEqual([]);
    expect(d.up()).toEqual([]);
    expect(dEvents.filter((e) => e.type === 'member-up')).toEqual([]);
    // Pinning d's certificate hash for that peer lets it in.
    const pinned = await node('p', { peers: [`127.0.0.1:${d.address!.port}#${Buffer.from(other.hash).toString('hex')}`] });
    await pinned.whenUp('d', 5_000);
    expect(pinned.counters().dialFailures).toBe(0);
  });
});
