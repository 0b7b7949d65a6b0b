import { createRequire } from 'node:module';
import nact from 'nact';
import type { PersistenceEngine } from '../persistence.js';

/**
 * The only file that touches nact. A runtime's non-persistent actors share
 * one nact actor, whose turns the dispatcher hands out; a persistent actor is
 * hosted by a nact persistent actor of its own per incarnation, which keeps
 * its journal, snapshots and recovery. All hosts are direct children of the
 * nact system, because nact copies an actor's whole map of children into the
 * context of every message (22.8 ms a message at 100k children), and because
 * nact does not stop children when their parent stops. The actor tree,
 * supervision and ordered shutdown are kept in swarmbank's cells instead.
 */
export interface HostRef {
  readonly ref: nact.Ref<unknown>;
  /** nact's concrete actor, resolved once: `nact.dispatch` would look it up by path on every message. */
  readonly actor: ConcreteActor;
}

interface ConcreteActor {
  readonly stopped: boolean;
  dispatch(message: unknown): void;
  /** nact's hook after each message; a persistent actor takes its snapshots here. */
  afterMessage: () => unknown;
}

// nact has no public way to reach the actor behind a reference; its system map is the one it uses itself.
const systemMap = createRequire(import.meta.url)('nact/lib/system-map.js') as {
  find(systemName: string, ref: nact.Ref<unknown>): ConcreteActor | undefined;
};

function resolveHost(ref: nact.Ref<unknown>): HostRef {
  const actor = systemMap.find((ref as unknown as { system: { name: string } }).system.name, ref);
  if (!actor) throw new Error('nact did not register the actor it just spawned');
  return { ref, actor };
}

export interface HostContext {
  readonly recovering?: boolean;
  readonly persist?: (message: unknown) => Promise<void>;
}

/** Returns the next state, or a promise of it: nact awaits either. */
export type HostFunction = (state: unknown, message: unknown, ctx: HostContext) => unknown;

/** nact's decision when a persistent actor's recovery throws: we always stop the host and let the cell's supervisor decide. */
export type HostCrashHandler = (message: unknown, error: Error) => void;

export interface HostSystem {
  readonly root: nact.ActorSystemRef;
  stop(): void;
}

let systems = 0;

export function startHostSystem(persistence: PersistenceEngine | undefined): HostSystem {
  // nact keys systems by name in a process-wide map, so two runtimes must never share one.
  const name = `swarmbank-${process.pid}-${++systems}`;
  // nact's typings omit the `{ name }` form of start() and describe engines as RxJS streams; both work as called here.
  const start = nact.start as unknown as (...extensions: unknown[]) => nact.ActorSystemRef;
  const root = persistence
    ? start({ name }, nact.configurePersistence(adaptEngine(persistence) as never))
    : start({ name });
  return { root, stop: () => nact.stop(root) };
}

const TURN = Symbol('turn');

/**
 * A nact actor that runs `turn` once per request; returns how to request one.
 * `turn` is not expected to throw: if it does, the actor resumes with its next
 * request rather than stopping, since every non-persistent actor depends on it.
 */
export function spawnTurnHost(system: HostSystem, name: string, turn: () => void): () => void {
  const ref = nact.spawn(system.root, ((state: unknown) => {
    turn();
    return state;
  }) as never, name, {
    onCrash: (_message: unknown, _error: unknown, ctx: { resume: symbol }) => ctx.resume,
  } as never) as nact.Ref<unknown>;
  const host = resolveHost(ref);
  return () => sendToHost(host, TURN);
}

export function spawnPersistentHost(
  system: HostSystem,
  name: string,
  persistenceKey: string,
  f: HostFunction,
  initialState: unknown,
  snapshotEvery: number | undefined,
  onCrash: HostCrashHandler,
): HostRef {
  const ref = nact.spawnPersistent(system.root, f as never, persistenceKey, name, {
    initialState,
    snapshotEvery,
    onCrash: crashHandler(onCrash),
  } as never) as nact.Ref<unknown>;
  return resolveHost(ref);
}

export function sendToHost(host: HostRef, message: unknown): void {
  if (!host.actor.stopped) host.actor.dispatch(message);
}

export function stopHost(host: HostRef): void {
  nact.stop(host.ref);
}

/**
 * A persistent host takes no more snapshots. nact snapshots the state a
 * message returns under the sequence number of every event persisted through
 * the host; once a turn has left a persisted event out of that state, a
 * snapshot would drop the event from every later recovery. A no-op
 * `afterMessage` is how nact itself turns snapshots off when `snapshotEvery`
 * is unset.
 */
export function stopSnapshots(host: HostRef): void {
  host.actor.afterMessage = noSnapshot;
}

const noSnapshot = (): void => undefined;

function crashHandler(onCrash: HostCrashHandler) {
  return (message: unknown, error: unknown, ctx: { stop: symbol }) => {
    onCrash(message, error instanceof Error ? error : new Error(String(error)));
    return ctx.stop;
  };
}

interface NactPersistedEvent {
  readonly data: unknown;
  readonly sequenceNumber: number;
  readonly key: string;
  readonly tags: string[];
  readonly createdAt: number;
  readonly isDeleted: boolean;
}

/** nact calls `events(...).reduce(reducer, initial)` synchronously and awaits the result. */
function adaptEngine(engine: PersistenceEngine) {
  return {
    events: (key: string, afterSequence: number) => ({
      reduce: async (reducer: (acc: unknown, event: unknown, index: number) => unknown, initial: unknown) => {
        let acc = initial;
        let index = 0;
        for await (const event of engine.events(key, afterSequence)) acc = await reducer(acc, event, index++);
        return acc;
      },
    }),
    persist: (event: NactPersistedEvent) =>
      engine.persist({
        key: event.key,
        sequenceNumber: event.sequenceNumber,
        data: event.data,
        tags: event.tags,
        createdAt: event.createdAt,
        isDeleted: event.isDeleted,
      }),
    latestSnapshot: (key: string) => engine.latestSnapshot(key),
    takeSnapshot: (snapshot: { data: unknown; sequenceNumber: number; key: string; createdAt: number }) =>
      engine.takeSnapshot({
        key: snapshot.key,
        sequenceNumber: snapshot.sequenceNumber,
        data: snapshot.data,
        createdAt: snapshot.createdAt,
      }),
  };
}
