import { ActorStoppedError, AskTimeoutError } from './errors.js';
import { type ActorRef, LocalRef, type MessageTarget, targetOf } from './ref.js';
import { TimedAsk } from './pending-asks.js';
import type { System } from './system.js';

/** The name of every ask's one-shot reply ref: a network node recognises by it a ref that takes one reply. */
export const ASK_REPLY_NAME = '$ask';

/** Sends a message; never throws: a message to a stopped or unknown actor is recorded as a dead letter. */
export function dispatch<Msg>(ref: ActorRef<Msg>, message: Msg): void {
  targetOf(ref).deliver(message);
}

/**
 * The reply type of a request message: what its `replyTo` ref accepts (an
 * optional `replyTo` counts too). For a union, the union of the replies.
 */
export type ReplyOf<Msg> = Msg extends { readonly replyTo?: infer To }
  ? Exclude<To, undefined> extends ActorRef<infer Reply>
    ? Reply
    : never
  : never;

/** The reply of the members of `Msg` that `Request` is: for a tagged union, of the one member its tag names. */
export type ReplyTo<Msg, Request> = Msg extends unknown ? (Request extends Msg ? ReplyOf<Msg> : never) : never;

/**
 * Sends the message made by `make` with a one-shot reply ref and resolves
 * with the first reply. Rejects with `AskTimeoutError` (naming the actor's
 * path) when no reply comes within `timeoutMs` on the runtime's clock, and
 * with `ActorStoppedError` at once when the actor has already stopped. A
 * reply that arrives after the timeout is recorded as a dead letter.
 *
 * The reply type is that of the message built, found in the actor's message
 * union, so `replyTo` needs no annotation even when the actor's requests
 * reply with different types:
 * `ask(ref, (replyTo) => ({ type: 'count', replyTo }), ms)` is a
 * `Promise<number>` when `count` carries an `ActorRef<number>`. Inside `make`,
 * an unannotated `replyTo` is typed as a ref accepting any of the actor's
 * replies (`ReplyOf<Msg>`), which every request accepts.
 *
 * The request is a const type parameter, so that literal tags keep their
 * literal types; arrays inside request messages must then be `readonly`.
 * It is inferred from what `make` returns, which is therefore checked
 * against the actor's message type without excess-property checks.
 */
export function ask<Msg, const Request extends Msg>(
  ref: ActorRef<Msg>,
  make: (replyTo: ActorRef<ReplyOf<Msg>>) => Request,
  timeoutMs: number,
): Promise<ReplyTo<Msg, Request>>;
/**
 * `ask` with a reply ref typed by its annotation: for a reply ref outside
 * `ReplyOf<Msg>` (a field not named `replyTo`), or a `make` that is generic
 * in its reply type. Resolves with the annotated reply type.
 */
export function ask<const Msg, Reply = ReplyOf<Msg>>(
  ref: ActorRef<Msg>,
  make: (replyTo: ActorRef<Reply>) => Msg,
  timeoutMs: number,
): Promise<Reply>;
export function ask<Msg, Reply>(ref: ActorRef<Msg>, make: (replyTo: ActorRef<Reply>) => Msg, timeoutMs: number): Promise<Reply> {
  if (!(timeoutMs > 0)) return Promise.reject(new RangeError(`ask timeout must be > 0 ms, got ${timeoutMs}`));
  const target = targetOf(ref);
  const system = target.system;
  return new Promise<Reply>((resolve, reject) => {
    const reply = new ReplyTarget(system, target.path, timeoutMs, resolve, reject);
    system.counters.pendingAsks++;
    system.pendingAsks.add(reply, timeoutMs);
    let message: Msg;
    try {
      message = make(new LocalRef<Reply>(reply, ASK_REPLY_NAME));
    } catch (error) {
      reply.settle();
      reject(error);
      return;
    }
    if (isStopped(target)) {
      system.deadLetter(target.path, message, 'stopped');
      reply.settle();
      reject(new ActorStoppedError(target.path));
      return;
    }
    target.deliver(message);
  });
}

function isStopped(target: MessageTarget): boolean {
  return (target as { isStopped?: boolean }).isStopped === true;
}

/** The one-shot target behind an ask's reply ref, timed by the runtime's pending asks. */
class ReplyTarget extends TimedAsk implements MessageTarget {
  private settled = false;

  constructor(
    readonly system: System,
    private readonly askedPath: string,
    private readonly timeoutMs: number,
    private readonly onReply: (reply: never) => void,
    private readonly onFail: (error: Error) => void,
  ) {
    super();
  }

  /** Built when read (a dead letter, a log line): most replies never need it. */
  get path(): string {
    return `${this.askedPath}/${ASK_REPLY_NAME}`;
  }

  deliver(message: unknown): void {
    if (this.settle()) this.onReply(message as never);
    else this.system.deadLetter(this.path, message, 'ask-expired');
  }

  expire(): void {
    if (this.settle()) this.onFail(new AskTimeoutError(this.askedPath, this.timeoutMs));
  }

  /** Rejects a pending ask because the runtime is stopping. */
  abort(error: Error): void {
    if (this.settle()) this.onFail(error);
  }

  /** Marks the ask finished; true the first time only. */
  settle(): boolean {
    if (this.settled) return false;
    this.settled = true;
    this.system.pendingAsks.remove(this);
    this.system.counters.pendingAsks--;
    return true;
  }
}
