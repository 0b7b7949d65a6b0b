import { FrameError } from './errors.js';

/**
 * What nodes say to each other, one message per frame on a session's one
 * channel. The first four make the handshake; the rest flow once both sides
 * have proved they hold the cluster secret. Every frame from the network is
 * checked here before anything acts on it: a frame that is not one of these
 * is a `FrameError` and closes that session.
 */
export type WireMessage =
  /** Dialler → listener: who I am, the largest frame I take, and a nonce for the listener to sign. */
  | { readonly t: 'hello'; readonly v: number; readonly node: string; readonly incarnation: string; readonly frame: number; readonly nonce: Uint8Array }
  /** Listener → dialler: who I am, the largest frame I take, my proof over your nonce, and my nonce for you to sign. */
  | { readonly t: 'challenge'; readonly node: string; readonly incarnation: string; readonly frame: number; readonly nonce: Uint8Array; readonly proof: Uint8Array }
  /** Dialler → listener: my proof over your nonce. */
  | { readonly t: 'auth'; readonly proof: Uint8Array }
  | { readonly t: 'welcome' }
  /** A message for the actor at `to` on the receiving node; `id` numbers the sender's messages to this receiver. */
  | {
      readonly t: 'deliver';
      readonly id: number;
      readonly to: string;
      readonly msg: unknown;
      /** A piggybacked acknowledgement, meaning what an `ack` frame's `upTo` means: it saves that frame whenever a message goes the other way. */
      readonly ack?: number;
    }
  /**
   * Several `deliver`s in one frame, as `[id, to, msg]` in id order: what a
   * link sends when messages queue up, saving a frame, a write and a decode
   * per message. `ack` as in `deliver`.
   */
  | { readonly t: 'deliveries'; readonly items: readonly (readonly [number, string, unknown])[]; readonly ack?: number }
  /** Every `deliver` with an id up to `upTo` has been handed to its actor (or found a duplicate). */
  | { readonly t: 'ack'; readonly upTo: number }
  | { readonly t: 'ping'; readonly at: number }
  | { readonly t: 'pong'; readonly at: number }
  /** Certificate hashes the sender serves or is about to serve (a rotation), for the receiver to pin when it dials. */
  | { readonly t: 'pins'; readonly hashes: readonly Uint8Array[] }
  /** The sender is leaving the cluster on purpose. */
  | { readonly t: 'bye' };

export const PROTOCOL_VERSION = 2;
/** Most certificate hashes in one `pins` frame. */
export const MAX_PINS = 8;
/** Most deliveries in one `deliveries` frame. */
export const MAX_BATCH = 256;
export const NONCE_BYTES = 32;
const NODE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** Whether `id` can name a node: 1–64 letters, digits, '.', '_' or '-', not starting with a punctuation mark. */
export function isNodeId(id: unknown): id is string {
  return typeof id === 'string' && NODE_ID.test(id);
}

/** The message a decoded frame carries, or a FrameError naming what is wrong with it. */
export function parseWire(value: unknown): WireMessage {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw malformed('a frame must be a map');
  const m = value as Record<string, unknown>;
  switch (m['t']) {
    case 'deliver':
      return m['ack'] === undefined
        ? { t: 'deliver', id: sequence(m, 'id'), to: path(m, 'to'), msg: m['msg'] }
        : { t: 'deliver', id: sequence(m, 'id'), to: path(m, 'to'), msg: m['msg'], ack: sequence(m, 'ack') };
    case 'deliveries': {
      const items = m['items'];
      if (!Array.isArray(items) || items.length === 0 || items.length > MAX_BATCH) throw malformed(`items must be a list of 1–${MAX_BATCH} deliveries`);
      const parsed = items.map((item: unknown) => {
        if (!Array.isArray(item) || item.length !== 3) throw malformed('each delivery must be [id, to, msg]');
        const [id, to, msg] = item as [unknown, unknown, unknown];
        return [sequence({ id }, 'id'), path({ to }, 'to'), msg] as const;
      });
      return m['ack'] === undefined ? { t: 'deliveries', items: parsed } : { t: 'deliveries', items: parsed, ack: sequence(m, 'ack') };
    }
    case 'ack':
      return { t: 'ack', upTo: sequence(m, 'upTo') };
    case 'ping':
    case 'pong':
      return { t: m['t'], at: finite(m, 'at') };
    case 'hello':
      return { t: 'hello', v: sequence(m, 'v'), node: nodeId(m, 'node'), incarnation: text(m, 'incarnation'), frame: sequence(m, 'frame'), nonce: bytes(m, 'nonce', NONCE_BYTES) };
    case 'challenge':
      return {
        t: 'challenge',
        node: nodeId(m, 'node'),
        incarnation: text(m, 'incarnation'),
        frame: sequence(m, 'frame'),
        nonce: bytes(m, 'nonce', NONCE_BYTES),
        proof: bytes(m, 'proof', 32),
      };
    case 'auth':
      return { t: 'auth', proof: bytes(m, 'proof', 32) };
    case 'pins': {
      const hashes = m['hashes'];
      if (!Array.isArray(hashes) || hashes.length === 0 || hashes.length > MAX_PINS) throw malformed(`hashes must be a list of 1–${MAX_PINS} certificate hashes`);
      return { t: 'pins', hashes: hashes.map((hash: unknown) => bytes({ hash }, 'hash', 32)) };
    }
    case 'welcome':
    case 'bye':
      return { t: m['t'] };
    default:
      throw malformed(`unknown frame type ${JSON.stringify(m['t'])}`);
  }
}

function malformed(what: string): FrameError {
  return new FrameError('FRAME_MALFORMED', what);
}

function sequence(m: Record<string, unknown>, key: string): number {
  const v = m[key];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw malformed(`${key} must be a non-negative integer`);
  return v;
}

function finite(m: Record<string, unknown>, key: string): number {
  const v = m[key];
  if (typeof v !== 'number' || !Number.isFinite(v)) throw malformed(`${key} must be a finite number`);
  return v;
}

function path(m: Record<string, unknown>, key: string): string {
  const v = m[key];
  if (typeof v !== 'string' || v.length === 0 || v.length > 1024) throw malformed(`${key} must be an actor path of 1–1024 characters`);
  return v;
}

function text(m: Record<string, unknown>, key: string): string {
  const v = m[key];
  if (typeof v !== 'string' || v.length === 0 || v.length > 64) throw malformed(`${key} must be a string of 1–64 characters`);
  return v;
}

function nodeId(m: Record<string, unknown>, key: string): string {
  const v = m[key];
  if (!isNodeId(v)) throw malformed(`${key} must be a node id`);
  return v;
}

function bytes(m: Record<string, unknown>, key: string, length: number): Uint8Array {
  const v = m[key];
  if (!(v instanceof Uint8Array) || v.length !== length) throw malformed(`${key} must be ${length} bytes`);
  return v;
}
