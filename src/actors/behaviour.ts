import type { Clock } from './clock.js';
import type { ActorRef, AnyActorRef, Terminated } from './ref.js';
import type { SupervisionPolicy } from './supervision.js';
import type { Timers } from './timers.js';

export interface SpawnOptions {
  /** Unique among siblings; letters, digits and `_.~-`. Unnamed actors get `$<n>` from a counter that never repeats. */
  readonly name?: string;
  readonly supervision?: SupervisionPolicy;
}

/** What an actor sees of itself and the runtime while it handles a message. */
export interface ActorContext<Msg> {
  readonly self: ActorRef<Msg>;
  readonly path: string;
  readonly name: string;
  readonly parent: AnyActorRef | undefined;
  /** 0 for the first start, +1 for each restart. */
  readonly incarnation: number;
  readonly timers: Timers<Msg>;
  /** The runtime's clock: read time through it, so that a manual clock in a test governs the actor too. */
  readonly clock: Clock;
  spawn<ChildMsg>(behaviour: Behaviour<ChildMsg>, options?: SpawnOptions): ActorRef<ChildMsg>;
  /** Stops a child gracefully (its mailbox is processed first); resolves once it has stopped. */
  stop(child: AnyActorRef): Promise<void>;
  children(): readonly AnyActorRef[];
  child(name: string): AnyActorRef | undefined;
  /**
   * Death-watch: when `target` stops for good, this actor receives a
   * `Terminated`. Only actors whose message type includes `Terminated` can
   * call it; the others use `watchWith`.
   */
  watch: Terminated extends Msg ? (target: AnyActorRef) => void : never;
  /** Death-watch with a message of the actor's own type instead of `Terminated`. */
  watchWith(target: AnyActorRef, message: Msg): void;
  unwatch(target: AnyActorRef): void;
}

export interface PersistentContext<Msg> extends ActorContext<Msg> {
  /** Appends the message to the actor's journal; on recovery it is replayed through `receive`. */
  persist(message: Msg): Promise<void>;
  /** True while journal events are being replayed: do not persist or cause side effects then. */
  readonly recovering: boolean;
}

type Awaitable<T> = T | Promise<T>;

export interface StatefulBehaviour<State, Msg> {
  readonly kind: 'stateful';
  /** A value, or a function of the context (to spawn children or start timers at start). Called again on restart. */
  readonly initialState: State | ((ctx: ActorContext<Msg>) => State);
  receive(state: State, message: Msg, ctx: ActorContext<Msg>): Awaitable<State>;
  /** Called when an incarnation ends (stop or restart), after its children have stopped. */
  onStop?(state: State, ctx: ActorContext<Msg>): void;
}

export interface StatelessBehaviour<Msg> {
  readonly kind: 'stateless';
  setup?(ctx: ActorContext<Msg>): void;
  receive(message: Msg, ctx: ActorContext<Msg>): Awaitable<void>;
  onStop?(ctx: ActorContext<Msg>): void;
}

export interface PersistentBehaviour<State, Msg> {
  readonly kind: 'persistent';
  /** Names the journal; two actors with the same key share one history. */
  readonly persistenceKey: string;
  readonly initialState: State | ((ctx: ActorContext<Msg>) => State);
  /** Take a snapshot after this many persisted events, so recovery replays only the tail. */
  readonly snapshotEvery?: number;
  receive(state: State, message: Msg, ctx: PersistentContext<Msg>): Awaitable<State>;
  onStop?(state: State, ctx: ActorContext<Msg>): void;
}

export type Behaviour<Msg> =
  | StatefulBehaviour<unknown, Msg>
  | StatelessBehaviour<Msg>
  | PersistentBehaviour<unknown, Msg>;

export function stateful<State, Msg>(definition: Omit<StatefulBehaviour<State, Msg>, 'kind'>): Behaviour<Msg> {
  return { kind: 'stateful', ...definition } as StatefulBehaviour<unknown, Msg>;
}

export function stateless<Msg>(
  definition: Omit<StatelessBehaviour<Msg>, 'kind'> | StatelessBehaviour<Msg>['receive'],
): Behaviour<Msg> {
  return typeof definition === 'function' ? { kind: 'stateless', receive: definition } : { kind: 'stateless', ...definition };
}

export function persistent<State, Msg>(definition: Omit<PersistentBehaviour<State, Msg>, 'kind'>): Behaviour<Msg> {
  return { kind: 'persistent', ...definition } as PersistentBehaviour<unknown, Msg>;
}
