import type { Clock } from './clock.js';
import type { Dispatcher } from './dispatcher.js';
import type { DeadLetterReason, EventStream, RuntimeEvent } from './events.js';
import type { MutableRuntimeMetrics } from './metrics.js';
import type { HostSystem } from './nact-host.js';
import type { PendingAsks } from './pending-asks.js';
import type { PersistenceEngine } from '../persistence.js';
import type { Registry } from './registry.js';
import type { Random } from '../random.js';

/** What the fault injector decides for one message about to be delivered. */
export type FaultVerdict =
  | { readonly kind: 'crash'; readonly error: Error }
  | { readonly kind: 'delay'; readonly ms: number }
  | { readonly kind: 'drop' };

/** The runtime side of fault injection, consulted per message only when some rule matches the actor's path. */
export interface FaultHook {
  /** Bumped whenever rules change, so cells re-match their path lazily. */
  readonly version: number;
  hasRulesFor(path: string): boolean;
  verdict(path: string, message: unknown): FaultVerdict | undefined;
}

/** Shared by every cell of one runtime. Internal: not exported from the package. */
export interface System {
  readonly clock: Clock;
  /** Seeded by the runtime and only forked, never drawn from: what each consumer draws must not depend on what the others drew first. */
  readonly random: Random;
  readonly events: EventStream;
  readonly counters: MutableRuntimeMetrics;
  readonly registry: Registry;
  readonly host: HostSystem;
  readonly persistence: PersistenceEngine | undefined;
  readonly faults: FaultHook;
  /** Runs the turns of every non-persistent cell. */
  readonly dispatcher: Dispatcher;
  /** Messages processed per nact turn (by all non-persistent cells together, or by one persistent cell) before yielding to I/O. */
  readonly batchSize: number;
  /** Asks awaiting a reply: times them out, and lets stopping the runtime reject them and clear their timers. */
  readonly pendingAsks: PendingAsks;
  nextId(): number;
  emit(event: RuntimeEvent): void;
  deadLetter(path: string, message: unknown, reason: DeadLetterReason): void;
}
