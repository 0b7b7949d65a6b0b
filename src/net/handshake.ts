import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { PeerRefusal } from '../actors/events.js';
import { SwarmbankError } from '../errors.js';
import { FrameError } from './errors.js';
import { NONCE_BYTES, PROTOCOL_VERSION, parseWire, type WireMessage } from './protocol.js';
import type { FrameChannel } from './transport.js';

/**
 * Mutual authentication by a shared cluster secret. Each side sends a fresh
 * nonce and the other answers with an HMAC-SHA256 over it (bound to both
 * node ids and to its role, so a proof cannot be replayed in another session
 * or reflected back). The listener reads only the dialler's hello and its
 * proof: a session that does not prove itself within the timeout is closed
 * before any other frame is read. The secret itself never crosses the wire.
 */

/** A session that failed its handshake, with why. */
export class HandshakeError extends SwarmbankError {
  declare readonly code: 'HANDSHAKE_FAILED';

  constructor(
    /** `partitioned`: the listener cut itself off from this peer (fault injection), which is no fault of the peer's. */
    readonly reason: PeerRefusal | 'listener-unproven' | 'partitioned' | 'closed',
    message: string,
    options?: { cause?: unknown },
  ) {
    super('HANDSHAKE_FAILED', message, options);
  }
}

/** A cluster secret that is too weak to use. */
export class ClusterSecretError extends SwarmbankError {
  declare readonly code: 'CLUSTER_SECRET_INVALID';

  constructor(message: string) {
    super('CLUSTER_SECRET_INVALID', message);
  }
}

export const MIN_SECRET_BYTES = 16;

/** The secret as key bytes; text is taken as UTF-8 with surrounding whitespace (a file's trailing newline) trimmed. */
export function clusterSecret(value: string | Uint8Array): Uint8Array {
  const key = typeof value === 'string' ? Buffer.from(value.trim(), 'utf8') : Uint8Array.from(value);
  if (key.length < MIN_SECRET_BYTES) throw new ClusterSecretError(`the cluster secret must be at least ${MIN_SECRET_BYTES} bytes, got ${key.length}`);
  return key;
}

/** Who a node is in this process's life: its id, and an incarnation that changes at every start. */
export interface NodeIdentity {
  readonly node: string;
  readonly incarnation: string;
}

type Role = 'listener' | 'dialler';

function proof(secret: Uint8Array, role: Role, nonce: Uint8Array, signer: string, verifier: string): Uint8Array {
  return createHmac('sha256', secret).update(`swarmbank/${PROTOCOL_VERSION} ${role}\0${signer}\0${verifier}\0`).update(nonce).digest();
}

function proves(expected: Uint8Array, given: Uint8Array): boolean {
  return expected.length === given.length && timingSafeEqual(expected, given);
}

export interface HandshakeOptions {
  readonly own: NodeIdentity;
  readonly secret: Uint8Array;
  readonly timeoutMs: number;
  /** The largest frame this node takes; a peer must take the same, or frames one side sends the other refuses. */
  readonly maxFrameBytes: number;
}

/** Refuses a proven peer whose frame limit is not ours, naming both. */
function checkFrameLimit(peer: string, theirs: number, ours: number): void {
  if (theirs !== ours) throw new HandshakeError('frame-limit', `node ${peer} takes frames up to ${theirs} bytes, this node ${ours}: set the same maxFrameBytes on every node`);
}

/** The dialler's side. Resolves with the listener's identity once both have proved the secret. */
export async function dialHandshake(channel: FrameChannel, frames: AsyncIterator<unknown>, options: HandshakeOptions): Promise<NodeIdentity> {
  const { own, secret } = options;
  const deadline = Date.now() + options.timeoutMs;
  const nonce = randomBytes(NONCE_BYTES);
  await channel.send({ t: 'hello', v: PROTOCOL_VERSION, node: own.node, incarnation: own.incarnation, frame: options.maxFrameBytes, nonce } satisfies WireMessage);
  const challenge = await expect(frames, 'challenge', deadline);
  if (!proves(proof(secret, 'listener', nonce, challenge.node, own.node), challenge.proof)) {
    throw new HandshakeError('listener-unproven', `node ${challenge.node} did not prove the cluster secret`);
  }
  checkFrameLimit(challenge.node, challenge.frame, options.maxFrameBytes);
  await channel.send({ t: 'auth', proof: proof(secret, 'dialler', challenge.nonce, own.node, challenge.node) } satisfies WireMessage);
  await expect(frames, 'welcome', deadline);
  return { node: challenge.node, incarnation: challenge.incarnation };
}

/**
 * The listener's side. `admit` may refuse a proven peer (its id is ours, or
 * taken). Rejects with a HandshakeError naming the refusal; the caller
 * closes the session.
 */
export async function acceptHandshake(
  channel: FrameChannel,
  frames: AsyncIterator<unknown>,
  options: HandshakeOptions & { readonly admit?: (peer: NodeIdentity) => PeerRefusal | 'partitioned' | undefined },
): Promise<NodeIdentity> {
  const { own, secret } = options;
  const deadline = Date.now() + options.timeoutMs;
  const hello = await expect(frames, 'hello', deadline);
  if (hello.v !== PROTOCOL_VERSION) throw new HandshakeError('bad-frame', `protocol version ${hello.v} is not ${PROTOCOL_VERSION}`);
  const nonce = randomBytes(NONCE_BYTES);
  await channel.send({
    t: 'challenge',
    node: own.node,
    incarnation: own.incarnation,
    frame: options.maxFrameBytes,
    nonce,
    proof: proof(secret, 'listener', hello.nonce, own.node, hello.node),
  } satisfies WireMessage);
  let auth: Extract<WireMessage, { t: 'auth' }>;
  try {
    auth = await expect(frames, 'auth', deadline);
  } catch (error) {
    // A dialler that hangs up once it saw our proof is one that could not prove the secret (a wrong secret does that).
    if (error instanceof HandshakeError && error.reason === 'closed') {
      throw new HandshakeError('bad-token', `node ${hello.node} closed the session without proving the cluster secret`, { cause: error });
    }
    throw error;
  }
  if (!proves(proof(secret, 'dialler', nonce, hello.node, own.node), auth.proof)) {
    throw new HandshakeError('bad-token', `node ${hello.node} did not prove the cluster secret`);
  }
  checkFrameLimit(hello.node, hello.frame, options.maxFrameBytes);
  const peer = { node: hello.node, incarnation: hello.incarnation };
  const refusal = options.admit?.(peer);
  if (refusal !== undefined) throw new HandshakeError(refusal, `node ${peer.node} refused: ${refusal}`);
  await channel.send({ t: 'welcome' } satisfies WireMessage);
  return peer;
}

async function expect<T extends WireMessage['t']>(frames: AsyncIterator<unknown>, type: T, deadline: number): Promise<Extract<WireMessage, { t: T }>> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new HandshakeError('handshake-timeout', `no ${type} within the handshake timeout`)), Math.max(0, deadline - Date.now()));
  });
  try {
    const next = await Promise.race([frames.next(), timeout]);
    if (next.done) throw new HandshakeError('closed', `the session closed before its ${type}`);
    const message = parseWire(next.value);
    // Anything but the expected step is a peer that does not speak the handshake: it has no token.
    if (message.t !== type) throw new HandshakeError(type === 'hello' || type === 'auth' ? 'bad-token' : 'listener-unproven', `expected ${type}, got ${message.t}`);
    return message as Extract<WireMessage, { t: T }>;
  } catch (error) {
    if (error instanceof FrameError) throw new HandshakeError('bad-frame', `bad frame during the handshake: ${error.message}`, { cause: error });
    if (error instanceof HandshakeError) throw error;
    throw new HandshakeError('closed', `the session failed during the handshake`, { cause: error });
  } finally {
    clearTimeout(timer);
  }
}
