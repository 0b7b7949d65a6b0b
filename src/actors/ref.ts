import type { System } from './system.js';

declare const acceptsMessage: unique symbol;

/**
 * A reference to an actor that accepts messages of type `Msg`. The phantom
 * member makes refs contravariant in their message type, so the compiler
 * refuses to send a message the actor does not handle, while a ref that
 * accepts `A | B` may stand in where one accepting `A` is expected. (nact's
 * `Ref<T>` is an empty class, so any ref is assignable to any other.)
 */
export interface ActorRef<in Msg> {
  readonly path: string;
  readonly name: string;
  readonly [acceptsMessage]?: (message: Msg) => void;
}

/**
 * A ref whose message type is not known here: it can be watched, stopped and
 * compared, not sent to. Refs are contravariant, so every ref is an
 * `ActorRef<never>`.
 */
export type AnyActorRef = ActorRef<never>;

/** Where a message goes. Cells, ask replies, probes and (later) remote links implement it. */
export interface MessageTarget {
  readonly path: string;
  /** The runtime the target belongs to: its clock times asks, its stream records dead letters. */
  readonly system: System;
  deliver(message: unknown): void;
}

/** The one concrete ref class: a path and the target it resolves to. */
export class LocalRef<Msg> implements ActorRef<Msg> {
  declare readonly [acceptsMessage]?: (message: Msg) => void;

  constructor(
    readonly target: MessageTarget,
    readonly name: string,
  ) {}

  get path(): string {
    return this.target.path;
  }

  toString(): string {
    return `ActorRef(${this.path})`;
  }
}

export function targetOf(ref: AnyActorRef): MessageTarget {
  if (!(ref instanceof LocalRef)) throw new TypeError(`not an actor ref: ${String(ref)}`);
  return ref.target;
}

/** Delivered to a watcher when an actor it watches has stopped for good. */
export interface Terminated {
  readonly type: 'terminated';
  readonly ref: AnyActorRef;
  readonly path: string;
}
