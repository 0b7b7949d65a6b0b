import { createRandom } from '../random.js';
import { ActorStoppedError, SpawnError } from './errors.js';
import type { ActorRef, AnyActorRef, MessageTarget, Terminated } from './ref.js';
import { LocalRef, targetOf } from './ref.js';
import type { Behaviour, SpawnOptions } from './behaviour.js';
import { ActorCell, STOP_TIMEOUT_MS, type Supervisor, superviseChild } from './cell.js';
import { type Clock, systemClock } from './clock.js';
import { type DeadLetterReason, EventStream, type RuntimeEvent } from './events.js';
import { FaultInjector } from './faults.js';
import { type ActorMetrics, type RuntimeMetrics, emptyRuntimeMetrics } from './metrics.js';
import { Dispatcher } from './dispatcher.js';
import { spawnTurnHost, startHostSystem } from './nact-host.js';
import { PendingAsks } from './pending-asks.js';
import type { PersistenceEngine } from '../persistence.js';
import { Registry } from './registry.js';
import type { System } from './system.js';

export interface RuntimeOptions {
  readonly name?: string;
  /** Where persistent actors keep their journals and snapshots. */
  readonly persistence?: PersistenceEngine;
  /** Time source for timers, backoff, ask timeouts and fault plans; tests pass a manual clock. */
  readonly clock?: Clock;
  /** Seeds backoff jitter and fault probabilities. Default 0, so runs repeat unless told otherwise. */
  readonly seed?: number;
  /** Messages processed per turn before yielding to I/O (default 4096): by all actors together, or by one persistent actor. */
  readonly batchSize?: number;
  /** How long `stop()` lets actors work through queued messages (default 5000 ms). */
  readonly stopTimeoutMs?: number;
}

export interface Runtime {
  readonly name: string;
  /** The guardian: the parent to give `spawn` for top-level actors. Messages sent to it are dead letters. */
  readonly root: AnyActorRef;
  readonly events: EventStream;
  readonly registry: Registry;
  readonly faults: FaultInjector;
  readonly clock: Clock;
  readonly isStopped: boolean;
  spawn<Msg>(parent: AnyActorRef, behaviour: Behaviour<Msg>, options?: SpawnOptions): ActorRef<Msg>;
  /** Stops one actor (children first, queued messages processed up to the timeout), or with no argument the whole runtime. */
  stop(ref?: AnyActorRef): Promise<void>;
  /** Death-watch from outside an actor: `watcher` receives `Terminated` when `target` stops. */
  watch(watcher: ActorRef<Terminated>, target: AnyActorRef): void;
  /** The live actor at `path`, if any. */
  lookup(path: string): AnyActorRef | undefined;
  /** A ref resolved by path at each send: it reaches whichever actor holds the path then, else dead letters. */
  refFor<Msg>(path: string): ActorRef<Msg>;
  /**
   * A ref whose messages go to `deliver` instead of a local actor: how a
   * network node makes refs to actors on other nodes, so `dispatch` and
   * `ask` work on them unchanged (asks are timed by this runtime's clock).
   * `deliver` must not throw; what it cannot deliver it hands to
   * `deadLetter`, which records it on this runtime's event stream.
   */
  externalRef<Msg>(path: string, deliver: (message: unknown, deadLetter: (reason: DeadLetterReason) => void) => void): ActorRef<Msg>;
  /**
   * Whether `ref` is a live actor of this runtime reachable by its path (not
   * an ask's one-shot reply ref, a probe or an external ref).
   */
  isAddressable(ref: AnyActorRef): boolean;
  /** Publishes an event that happened outside any actor (a network node's membership changes) on `events`. */
  publish(event: RuntimeEvent): void;
  metrics(): RuntimeMetrics;
  metricsOf(ref: AnyActorRef): ActorMetrics | undefined;
  /** The metrics of every live actor, parents before their children. */
  actorMetrics(): ActorMetrics[];
}

export function createRuntime(options: RuntimeOptions = {}): Runtime {
  return new ActorRuntime(options);
}

/** Parent of the top-level actors. A failure escalated to it stops the actor that escalated. */
class Guardian implements Supervisor, MessageTarget {
  readonly path = '/';
  readonly children = new Map<string, ActorCell>();
  acceptsChildren = true;

  constructor(readonly system: System) {}

  adopt(child: ActorCell): void {
    this.children.set(child.name, child);
  }

  release(child: ActorCell): void {
    if (this.children.get(child.name) === child) this.children.delete(child.name);
  }

  deliver(message: unknown): void {
    this.system.deadLetter(this.path, message, 'unknown');
  }

  childFailed(child: ActorCell, error: Error, message: unknown): void {
    superviseChild(this, child, error, message, () => {
      if (!child.isStopped) child.stopNow('escalation');
    });
  }
}

class PathTarget implements MessageTarget {
  /** Split once: a path ref resolves at every delivery, and a node delivers every message from a peer through one. */
  private readonly names: readonly string[];

  constructor(
    readonly system: System,
    readonly path: string,
    private readonly resolve: (names: readonly string[]) => ActorCell | undefined,
  ) {
    this.names = path.split('/');
  }

  deliver(message: unknown): void {
    const cell = this.resolve(this.names);
    if (cell) cell.deliver(message);
    else this.system.deadLetter(this.path, message, 'unknown');
  }
}

class ExternalTarget implements MessageTarget {
  constructor(
    readonly system: System,
    readonly path: string,
    private readonly send: (message: unknown, deadLetter: (reason: DeadLetterReason) => void) => void,
  ) {}

  deliver(message: unknown): void {
    this.send(message, (reason) => this.system.deadLetter(this.path, message, reason));
  }
}

class ActorRuntime implements Runtime {
  readonly name: string;
  readonly root: AnyActorRef;
  readonly events = new EventStream();
  readonly registry = new Registry();
  readonly faults: FaultInjector;
  readonly clock: Clock;
  private readonly system: System;
  private readonly guardian: Guardian;
  private readonly stopTimeoutMs: number;
  private stopping: Promise<void> | undefined;
  private stopped = false;

  constructor(options: RuntimeOptions) {
    this.name = options.name ?? 'swarmbank';
    this.clock = options.clock ?? systemClock;
    this.stopTimeoutMs = options.stopTimeoutMs ?? STOP_TIMEOUT_MS;
    const batchSize = options.batchSize ?? 4096;
    if (!(Number.isInteger(batchSize) && batchSize >= 1)) throw new RangeError(`batchSize must be an integer >= 1, got ${batchSize}`);
    let ids = 0;
    const counters = emptyRuntimeMetrics();
    const events = this.events;
    const clock = this.clock;
    const host = startHostSystem(options.persistence);
    const system: System = {
      clock,
      random: createRandom(options.seed ?? 0),
      events,
      counters,
      registry: this.registry,
      host,
      persistence: options.persistence,
      faults: undefined as unknown as FaultInjector,
      dispatcher: new Dispatcher(batchSize, (turn) => spawnTurnHost(host, 'dispatcher', turn)),
      batchSize,
      pendingAsks: new PendingAsks(clock),
      nextId: () => ++ids,
      emit: (event: RuntimeEvent) => {
        if (events.hasListeners) events.publish(event);
      },
      deadLetter: (path, message, reason) => {
        counters.deadLetters++;
        if (events.hasListeners) events.publish({ type: 'dead-letter', path, message, reason, at: clock.now() });
      },
    };
    const faults = new FaultInjector(system, () => this.liveCells(), (ref) => {
      const target = targetOf(ref);
      return target instanceof ActorCell ? target : undefined;
    });
    // The injector needs the system and the system hands the injector to cells: tie the knot once, before any cell exists.
    Object.assign(system, { faults });
    this.system = system;
    this.faults = faults;
    this.guardian = new Guardian(system);
    this.root = new LocalRef(this.guardian, '/');
  }

  get isStopped(): boolean {
    return this.stopped;
  }

  spawn<Msg>(parent: AnyActorRef, behaviour: Behaviour<Msg>, options?: SpawnOptions): ActorRef<Msg> {
    if (this.stopping) throw new SpawnError('the runtime is stopping');
    const target = targetOf(parent);
    const supervisor = target === this.guardian ? this.guardian : target instanceof ActorCell ? target : undefined;
    if (!supervisor || target.system !== this.system) throw new SpawnError(`parent ${parent.path} is not an actor of runtime ${this.name}`);
    return ActorCell.spawn(this.system, supervisor, behaviour as Behaviour<unknown>, options).ref as ActorRef<Msg>;
  }

  stop(ref?: AnyActorRef): Promise<void> {
    if (ref) {
      const target = targetOf(ref);
      return target instanceof ActorCell ? target.stop('requested', this.stopTimeoutMs) : Promise.resolve();
    }
    this.stopping ??= this.shutdown();
    return this.stopping;
  }

  watch(watcher: ActorRef<Terminated>, target: AnyActorRef): void {
    const cell = targetOf(target);
    const terminated: Terminated = { type: 'terminated', ref: target, path: target.path };
    if (cell instanceof ActorCell) cell.addWatcher(targetOf(watcher), terminated);
    else targetOf(watcher).deliver(terminated);
  }

  lookup(path: string): AnyActorRef | undefined {
    return this.resolve(path)?.ref;
  }

  refFor<Msg>(path: string): ActorRef<Msg> {
    return new LocalRef<Msg>(new PathTarget(this.system, path, (names) => this.resolveNames(names)), path.split('/').pop() ?? path);
  }

  externalRef<Msg>(path: string, deliver: (message: unknown, deadLetter: (reason: DeadLetterReason) => void) => void): ActorRef<Msg> {
    return new LocalRef<Msg>(new ExternalTarget(this.system, path, deliver), path.split('/').pop() ?? path);
  }

  isAddressable(ref: AnyActorRef): boolean {
    const target = targetOf(ref);
    return target instanceof ActorCell ? this.resolve(target.path) === target : target instanceof PathTarget;
  }

  publish(event: RuntimeEvent): void {
    this.system.emit(event);
  }

  metrics(): RuntimeMetrics {
    return { ...this.system.counters };
  }

  metricsOf(ref: AnyActorRef): ActorMetrics | undefined {
    const target = targetOf(ref);
    return target instanceof ActorCell ? target.metrics() : undefined;
  }

  actorMetrics(): ActorMetrics[] {
    return [...this.liveCells()].map((cell) => cell.metrics());
  }

  private resolve(path: string): ActorCell | undefined {
    return this.resolveNames(path.split('/'));
  }

  private resolveNames(names: readonly string[]): ActorCell | undefined {
    let children: ReadonlyMap<string, ActorCell> = this.guardian.children;
    let cell: ActorCell | undefined;
    for (const name of names) {
      if (name === '') continue;
      cell = children.get(name);
      if (!cell) return undefined;
      children = cell.children;
    }
    return cell;
  }

  private *liveCells(): Iterable<ActorCell> {
    const stack = [...this.guardian.children.values()];
    while (stack.length > 0) {
      const cell = stack.pop() as ActorCell;
      yield cell;
      stack.push(...cell.children.values());
    }
  }

  private async shutdown(): Promise<void> {
    this.guardian.acceptsChildren = false;
    await Promise.all([...this.guardian.children.values()].map((cell) => cell.stop('runtime-stopped', this.stopTimeoutMs)));
    this.faults.clear();
    this.system.pendingAsks.abortAll(() => new ActorStoppedError(this.name));
    this.system.host.stop();
    this.stopped = true;
  }
}
