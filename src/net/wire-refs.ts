import { ASK_REPLY_NAME } from '../actors/ask.js';
import type { ActorRef, AnyActorRef } from '../actors/ref.js';
import { LocalRef } from '../actors/ref.js';
import type { Runtime } from '../actors/runtime.js';
import { randomBytes } from 'node:crypto';
import { FrameError, type FrameErrorCode } from './errors.js';
import { isNodeId } from './protocol.js';

/**
 * Actor refs inside messages that cross the network. A ref cannot travel as
 * an object, so on the way out each becomes a marker naming a node and a
 * path, and on the way in each marker becomes a ref again:
 * - a live actor of this node travels as its path;
 * - a ref to another node's actor travels as that node's id and path;
 * - a ref that no path reaches (an ask's one-shot reply ref, a test probe)
 *   is exported: it gets a path `$export/<tag>-<n>` on this node (the tag
 *   differs in every incarnation), kept for a
 *   while (`exportTtlMs`), so the receiver can reply to it.
 * Only plain objects and arrays are searched: refs inside Maps, Sets or
 * class instances are not translated.
 */
export const REF_MARKER = '\u0000ref';
export const EXPORT_PREFIX = '$export/';
const MAX_LOCAL_REFS = 4096;
/**
 * Levels of objects and arrays a message may nest. msgpack itself fails a little deeper (about
 * 1300 levels from an empty stack), so nothing that could be sent is refused, and it leaves
 * the walk room on a stack that is already deep when a message is sent.
 */
export const MAX_DEPTH = 1024;

export interface WireRefsOptions {
  readonly self: string;
  readonly runtime: Runtime;
  /** The ref for an actor on another node. */
  readonly remote: (node: string, path: string) => ActorRef<unknown>;
  readonly exportTtlMs: number;
  /** Exports kept at most; the oldest go first. */
  readonly maxExports: number;
}

interface Export {
  readonly ref: AnyActorRef;
  expires: number;
}

export class WireRefs {
  private readonly exports = new Map<string, Export>();
  private readonly exported = new WeakMap<AnyActorRef, string>();
  /** Refs to other nodes' actors, so they travel as the node and path they name. */
  private readonly remotes = new WeakMap<AnyActorRef, readonly [string, string]>();
  private nextExport = 1;
  /** Refs for the local paths messages arrive for, bounded: paths come from the network. */
  private readonly locals = new Map<string, ActorRef<unknown>>();
  /**
   * Export paths differ in every incarnation: a reply still queued at a peer
   * for an ask of our previous life must find no export, rather than resolve
   * an unrelated ask that reuses its number.
   */
  private readonly exportTag = randomBytes(6).toString('hex');

  constructor(private readonly options: WireRefsOptions) {}

  /** Records that `ref` names the actor at `path` on `node`. */
  markRemote(ref: AnyActorRef, node: string, path: string): void {
    this.remotes.set(ref, [node, path]);
  }

  /**
   * `message` with every ref replaced by its marker; the message itself when it holds none.
   * A message too deep (or cyclic) is a FrameError `FRAME_UNENCODABLE`.
   */
  encode(message: unknown, now: number): unknown {
    return walk(message, (value) => (value instanceof LocalRef ? { [REF_MARKER]: this.wireName(value as AnyActorRef, now) } : value), 'FRAME_UNENCODABLE');
  }

  /**
   * `value` with every marker replaced by a ref. `onRef` sees each (node,
   * path) found, so a link can count the asks a peer has pending on it.
   * A malformed marker, or a value nested too deep, is a FrameError.
   */
  decode(value: unknown, onRef?: (node: string, path: string) => void): unknown {
    return walk(value, (item) => {
      if (!isMarker(item)) return item;
      const name = item[REF_MARKER];
      // The node id is checked too: a made-up one would become a link (and a member) of its own.
      if (!Array.isArray(name) || name.length !== 2 || !isNodeId(name[0]) || typeof name[1] !== 'string' || name[1].length === 0 || name[1].length > 1024) {
        throw new FrameError('FRAME_MALFORMED', 'an actor ref in a message must name a node and a path');
      }
      const [node, path] = name as [string, string];
      onRef?.(node, path);
      return node === this.options.self ? this.local(path) : this.options.remote(node, path);
    }, 'FRAME_MALFORMED');
  }

  /** The local ref a message for `path` goes to: an export, or whatever actor holds the path (dead letters if none). */
  local(path: string): ActorRef<unknown> {
    if (path.startsWith(EXPORT_PREFIX)) {
      const entry = this.exports.get(path);
      if (entry === undefined) return this.options.runtime.refFor(path);
      // An ask's reply ref takes one reply: its export goes with it rather than lingering for exportTtlMs
      // (100k asks a minute kept 100k replies' promises alive, and made the heartbeat's sweep walk them all).
      if (entry.ref.name === ASK_REPLY_NAME) this.exports.delete(path);
      // A message from the network is typed by nothing here: whoever holds the path receives it as sent.
      return entry.ref as ActorRef<unknown>;
    }
    // A path ref resolves its actor at each delivery, so one per path serves every message to it.
    let ref = this.locals.get(path);
    if (ref === undefined) {
      if (this.locals.size >= MAX_LOCAL_REFS) this.locals.clear();
      ref = this.options.runtime.refFor(path);
      this.locals.set(path, ref);
    }
    return ref;
  }

  /** Forgets exports past their time. */
  sweep(now: number): void {
    for (const [path, entry] of this.exports) if (entry.expires <= now) this.exports.delete(path);
  }

  get exportCount(): number {
    return this.exports.size;
  }

  private wireName(ref: AnyActorRef, now: number): readonly [string, string] {
    const remote = this.remotes.get(ref);
    if (remote !== undefined) return remote;
    if (this.options.runtime.isAddressable(ref)) return [this.options.self, ref.path];
    let path = this.exported.get(ref);
    const entry = path === undefined ? undefined : this.exports.get(path);
    if (path === undefined || entry === undefined) {
      path = `${EXPORT_PREFIX}${this.exportTag}-${this.nextExport++}`;
      // An ask's reply ref goes out once: no need to remember its export (a WeakMap entry costs the GC dearly).
      if (ref.name !== ASK_REPLY_NAME) this.exported.set(ref, path);
      if (this.exports.size >= this.options.maxExports) {
        const oldest = this.exports.keys().next().value;
        if (oldest !== undefined) this.exports.delete(oldest);
      }
      this.exports.set(path, { ref, expires: now + this.options.exportTtlMs });
    } else {
      entry.expires = now + this.options.exportTtlMs;
    }
    return [this.options.self, path];
  }
}

function isMarker(value: unknown): value is { readonly [REF_MARKER]: unknown } {
  return typeof value === 'object' && value !== null && REF_MARKER in value;
}

/**
 * Rebuilds plain objects and arrays only where `swap` changed something beneath them.
 * Nesting deeper than MAX_DEPTH is a FrameError with `tooDeep` as its code: a cyclic message
 * is infinitely deep, and a recursion without bound would overflow the stack of whoever sent it.
 */
function walk(value: unknown, swap: (value: unknown) => unknown, tooDeep: FrameErrorCode, depth = 0): unknown {
  if (typeof value !== 'object' || value === null) return value;
  const swapped = swap(value);
  if (swapped !== value) return swapped;
  if (depth === MAX_DEPTH) throw new FrameError(tooDeep, `a message nested deeper than ${MAX_DEPTH} levels (or cyclic) cannot cross the network`);
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      const next = walk(item, swap, tooDeep, depth + 1);
      if (next !== item) (copy ??= value.slice())[i] = next;
    }
    return copy ?? value;
  }
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return value;
  let copy: Record<string, unknown> | undefined;
  // for-in rather than Object.keys, which builds an array per object of every message; the prototype checked above has no enumerable keys of its own.
  for (const key in value) {
    const item = (value as Record<string, unknown>)[key];
    const next = walk(item, swap, tooDeep, depth + 1);
    if (next !== item) (copy ??= { ...(value as Record<string, unknown>) })[key] = next;
  }
  return copy ?? value;
}
