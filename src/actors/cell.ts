import { toError } from '../errors.js';
import { backoffDelay } from './backoff.js';
import type { ActorContext, Behaviour, PersistentBehaviour, PersistentContext, SpawnOptions } from './behaviour.js';
import type { Clock, TimerHandle } from './clock.js';
import { EscalationError, RestartBudgetExceededError, SpawnError } from './errors.js';
import type { StopReason } from './events.js';
import { Mailbox } from './mailbox.js';
import type { ActorMetrics, ActorStatus } from './metrics.js';
import type { Runnable } from './dispatcher.js';
import { type HostContext, type HostRef, sendToHost, spawnPersistentHost, stopHost, stopSnapshots } from './nact-host.js';
import { type ActorRef, type AnyActorRef, LocalRef, type MessageTarget, type Terminated, targetOf } from './ref.js';
import { type ResolvedSupervision, admitRestart, directiveFor, resolveSupervision } from './supervision.js';
import type { System } from './system.js';
import type { Random } from '../random.js';
import { TimerSet } from './timers.js';

/** The parent side of supervision: an actor cell, or the runtime's guardian for top-level actors. */
export interface Supervisor {
  readonly path: string;
  readonly children: ReadonlyMap<string, ActorCell>;
  readonly acceptsChildren: boolean;
  adopt(child: ActorCell): void;
  release(child: ActorCell): void;
  childFailed(child: ActorCell, error: Error, message: unknown): void;
}

/** Most actors are leaves: they share this instead of each holding an empty map. */
const NO_CHILDREN: ReadonlyMap<string, ActorCell> = new Map();

const NAME = /^[A-Za-z0-9_.~-]+$/;

/** Marks a nact message as "drain the mailbox"; anything else a persistent host gets is a replayed event. */
const DRAIN = Symbol('drain');

/**
 * One actor: its mailbox, its place in the tree, its supervision. Messages are
 * queued here and processed in batches, several per nact turn (nact runs each
 * of its messages in its own `setImmediate`), which is what makes delivery
 * several times cheaper than a nact message per user message. A
 * non-persistent cell takes its turns from the runtime's dispatcher; a
 * persistent one from the nact persistent actor that hosts its current
 * incarnation, which recovers its state and keeps its journal.
 */
export class ActorCell implements MessageTarget, Supervisor, Runnable {
  readonly ref: LocalRef<unknown>;
  readonly path: string;
  readonly policy: ResolvedSupervision;
  private childMap: Map<string, ActorCell> | undefined;

  private readonly mailbox = new Mailbox<unknown>();
  private restartTimes: number[] | undefined;
  private status: ActorStatus = 'running';
  private incarnationNumber = 0;
  /** Set when the current incarnation fails (a message, a kill, an escalation); only a resume clears it. */
  private incarnationFailed = false;
  /** The nact persistent actor hosting a persistent actor's incarnation, from its start until it ends or its recovery fails. */
  private host: HostRef | undefined;
  /** False while an incarnation has failed to initialise; resuming then means restarting. */
  private initialised = false;
  /** A turn has been requested (from the dispatcher or the host) or is running. */
  private scheduled = false;
  private processing = false;
  private afterDrain: (() => void) | undefined;
  private state: unknown;
  private persistFn: ((message: unknown) => Promise<void>) | undefined;
  private pendingRestart: TimerHandle | undefined;
  private idleWaiters: (() => void)[] | undefined;
  private stopping: Promise<void> | undefined;
  private watchers: Map<MessageTarget, unknown> | undefined;
  private watching: Set<ActorCell> | undefined;
  private timerSet: TimerSet<unknown> | undefined;
  private jitterRandom: Random | undefined;
  private faultVersion = -1;
  private faultsApply = false;
  private processedCount = 0;
  private failedCount = 0;
  private failedAfterEndCount = 0;
  /** Messages that ended without their result becoming the live state: they failed, or completed after their incarnation ended. */
  private unappliedCount = 0;
  private restartCount = 0;
  private lastError: Error | undefined;
  private readonly context: CellContext;
  private replayContext: PersistentContext<unknown> | undefined;

  constructor(
    readonly system: System,
    readonly parent: Supervisor,
    readonly name: string,
    readonly behaviour: Behaviour<unknown>,
    policy: ResolvedSupervision,
  ) {
    this.path = parent.path === '/' ? `/${name}` : `${parent.path}/${name}`;
    this.ref = new LocalRef(this, name);
    this.policy = policy;
    this.context = new CellContext(this);
  }

  /** Creates, registers with its parent and starts a new child cell. */
  static spawn(system: System, parent: Supervisor, behaviour: Behaviour<unknown>, options: SpawnOptions | undefined): ActorCell {
    const name = options?.name ?? `$${system.nextId()}`;
    if (options?.name !== undefined && !NAME.test(name)) throw new SpawnError(`actor name "${name}" may hold only letters, digits and _.~-`);
    if (!parent.acceptsChildren) throw new SpawnError(`cannot spawn "${name}": ${parent.path} is stopping or stopped`);
    if (parent.children.has(name)) throw new SpawnError(`${parent.path} already has a child named "${name}"`);
    if (behaviour.kind === 'persistent' && !system.persistence) {
      throw new SpawnError(`persistent actor "${name}" needs a runtime created with a persistence engine`);
    }
    const cell = new ActorCell(system, parent, name, behaviour, resolveSupervision(options?.supervision));
    parent.adopt(cell);
    system.counters.spawned++;
    system.counters.liveActors++;
    if (system.events.hasListeners) system.emit({ type: 'spawned', path: cell.path, at: system.clock.now() });
    cell.startIncarnation();
    return cell;
  }

  get children(): ReadonlyMap<string, ActorCell> {
    return this.childMap ?? NO_CHILDREN;
  }

  adopt(child: ActorCell): void {
    (this.childMap ??= new Map()).set(child.name, child);
  }

  release(child: ActorCell): void {
    if (this.childMap?.get(child.name) === child) this.childMap.delete(child.name);
  }

  /** Restart times inside the budget window; read and trimmed by `superviseChild`. */
  get restartLog(): number[] {
    return (this.restartTimes ??= []);
  }

  get isStopped(): boolean {
    return this.status === 'stopped';
  }

  get acceptsChildren(): boolean {
    return this.status !== 'stopped' && this.status !== 'stopping';
  }

  get incarnation(): number {
    return this.incarnationNumber;
  }

  deliver(message: unknown): void {
    const status = this.status;
    if (status === 'stopped' || status === 'stopping') {
      this.system.deadLetter(this.path, message, 'stopped');
      return;
    }
    this.mailbox.push(message);
    if (!this.scheduled && status === 'running' && this.initialised) this.requestTurn();
  }

  /**
   * This actor's own stream for backoff jitter, from the runtime's seed and its path: created on the
   * first restart and kept across incarnations, so its n-th restart draws the same number in every run
   * with that seed, however its restarts interleave with other actors'.
   */
  get backoffRandom(): Random {
    return (this.jitterRandom ??= this.system.random.fork(`backoff:${this.path}`));
  }

  /** Per-actor timers, created on first use. */
  get timers(): TimerSet<unknown> {
    return (this.timerSet ??= new TimerSet(this.system.clock, (message) => this.deliver(message)));
  }

  metrics(): ActorMetrics {
    return {
      path: this.path,
      status: this.status,
      incarnation: this.incarnationNumber,
      processed: this.processedCount,
      failed: this.failedCount,
      failedAfterEnd: this.failedAfterEndCount,
      restarts: this.restartCount,
      mailboxDepth: this.mailbox.size,
      lastError: this.lastError,
    };
  }

  // ---- incarnations -------------------------------------------------------

  private startIncarnation(): void {
    this.incarnationFailed = false;
    // A turn asked of the ended incarnation's host went with it; a visit still queued in the dispatcher is harmless (see runTurn).
    this.scheduled = false;
    this.persistFn = undefined;
    this.initialised = false;
    try {
      this.state = this.initialState();
    } catch (error) {
      this.fail(toError(error), undefined);
      return;
    }
    this.initialised = true;
    if (this.behaviour.kind === 'persistent') this.openHost(this.behaviour);
    this.scheduleIfNeeded();
  }

  private openHost(behaviour: PersistentBehaviour<unknown, unknown>): void {
    const incarnation = this.incarnationNumber;
    const onCrash = (message: unknown, error: Error): void => {
      // Only recovery can throw into nact: drains catch their own errors.
      if (this.incarnationNumber === incarnation && this.status === 'running') {
        this.host = undefined;
        this.initialised = false;
        this.fail(error, message);
      }
    };
    // nact goes on recovering a host it has stopped, so a host that is no longer this incarnation's
    // may still replay events: it must then neither set the live state nor lend its persist, whose
    // sequence numbers would collide with the live host's.
    const hostFunction = (state: unknown, message: unknown, ctx: HostContext): unknown => {
      const current = this.host === host;
      if (current && ctx.persist) this.persistFn = ctx.persist;
      if (message === DRAIN) return current ? this.drainHosted(host, state) : state;
      if (ctx.recovering) return this.replay(behaviour, host, state, message);
      return state;
    };
    const name = `p${this.system.nextId()}`;
    const host = spawnPersistentHost(this.system.host, name, behaviour.persistenceKey, hostFunction, this.state, behaviour.snapshotEvery, onCrash);
    this.host = host;
  }

  private initialState(): unknown {
    const behaviour = this.behaviour;
    if (behaviour.kind === 'stateless') {
      behaviour.setup?.(this.context);
      return undefined;
    }
    const initial = behaviour.initialState;
    return typeof initial === 'function' ? (initial as (ctx: ActorContext<unknown>) => unknown)(this.context) : initial;
  }

  private endIncarnation(): void {
    this.timerSet?.cancelAll();
    if (this.host) {
      stopHost(this.host);
      this.host = undefined;
    }
    const behaviour = this.behaviour;
    try {
      if (behaviour.kind === 'stateless') behaviour.onStop?.(this.context);
      else behaviour.onStop?.(this.state, this.context);
    } catch (error) {
      this.lastError = toError(error);
      this.system.emit({ type: 'crashed', path: this.path, error: this.lastError, message: undefined, incarnation: this.incarnationNumber, at: this.system.clock.now() });
    }
  }

  // ---- message processing ---------------------------------------------------

  private requestTurn(): void {
    this.scheduled = true;
    if (this.behaviour.kind !== 'persistent') this.system.dispatcher.schedule(this);
    else if (this.host) sendToHost(this.host, DRAIN);
  }

  /**
   * The dispatcher's visit. A visit the cell cannot use (it failed, restarts or stopped) costs nothing; one that
   * finds it still busy with an async message is made again once that message has settled.
   */
  runTurn(budget: number): number {
    if (this.processing || !this.initialised || !this.isLive(this.incarnationNumber)) {
      if (this.processing) this.revisitAfterDrain();
      return 0;
    }
    const left = this.drain(budget);
    // An async message ends the cell's part of the turn; it goes on with what is left once the message settles.
    return left instanceof Promise ? 1 : budget - left;
  }

  /**
   * A visit found the cell busy: the drain that asked for it has not ended (a
   * microtask turn can come between its last message and its end), and no
   * other visit comes while `scheduled` is set, so the cell asks again once
   * the drain has ended.
   */
  private revisitAfterDrain(): void {
    const next = this.afterDrain;
    this.afterDrain = () => {
      if (this.mailbox.size > 0 && this.isLive(this.incarnationNumber)) this.requestTurn();
      else this.scheduled = false;
      next?.();
    };
  }

  /**
   * A persistent host's turn: nact holds the state, recovered or returned by
   * the last turn, and takes back the new one, which it may snapshot under the
   * sequence number of every event persisted so far. When the turn's
   * incarnation has ended with a message whose result it discarded (killed
   * while the message awaited its persist, or failed by it), that state lacks
   * the message's event although the journal has it, and by then it may even
   * be the next incarnation's: the host must not snapshot it, and the next
   * incarnation recovers from the journal. A graceful stop discards nothing,
   * so its last turn still snapshots.
   */
  private drainHosted(host: HostRef, state: unknown): unknown {
    this.state = state;
    const unapplied = this.unappliedCount;
    const left = this.drain(this.system.batchSize);
    const end = (): unknown => {
      if (this.unappliedCount !== unapplied && this.host !== host) stopSnapshots(host);
      return this.state;
    };
    return left instanceof Promise ? left.then(end) : end();
  }

  /** A host that is no longer current still folds its events, but into nact's state only. */
  private replay(behaviour: PersistentBehaviour<unknown, unknown>, host: HostRef, state: unknown, message: unknown): unknown {
    this.replayContext ??= recoveryContext(this.context);
    // Errors propagate to nact, which stops the host and reports through onCrash.
    const next = behaviour.receive(state, message, this.replayContext);
    if (next instanceof Promise) {
      return next.then((value) => {
        if (this.host === host) this.state = value;
        return value;
      });
    }
    if (this.host === host) this.state = next;
    return next;
  }

  // Synchronous unless a behaviour returns a promise: an awaited step per message costs more than the message.
  private drain(budget: number): number | Promise<number> {
    this.processing = true;
    const left = this.processBatch(this.state, this.incarnationNumber, budget);
    if (left instanceof Promise) {
      return left.then((value) => {
        this.drainEnded();
        return value;
      });
    }
    this.drainEnded();
    return left;
  }

  private drainEnded(): void {
    this.processing = false;
    if (this.mailbox.size === 0 || this.incarnationFailed) this.notifyIdle();
    const next = this.afterDrain;
    this.afterDrain = undefined;
    next?.();
  }

  /**
   * Processes up to `budget` messages and returns the budget left; switches to
   * a promise only when a behaviour or a fault needs one. The live
   * incarnation's state is `this.state`, set as each message completes.
   */
  private processBatch(state: unknown, incarnation: number, budget: number): number | Promise<number> {
    const behaviour = this.behaviour;
    const mailbox = this.mailbox;
    const faults = this.system.faults;
    while (budget > 0 && mailbox.size > 0 && this.isLive(incarnation)) {
      budget--;
      const message = mailbox.shift();
      let next: unknown;
      try {
        if (this.faultVersion !== faults.version) this.refreshFaults();
        if (this.faultsApply) {
          const verdict = faults.verdict(this.path, message);
          if (verdict?.kind === 'drop') continue;
          if (verdict?.kind === 'crash') throw verdict.error;
          if (verdict?.kind === 'delay') {
            const delayed = sleep(this.system, verdict.ms).then(() => this.receiveOne(behaviour, state, message));
            return this.settle(delayed, state, message, incarnation, budget);
          }
        }
        next = this.receiveOne(behaviour, state, message);
      } catch (error) {
        this.failed(error, message, incarnation);
        return budget;
      }
      if (next instanceof Promise) return this.settle(next, state, message, incarnation, budget);
      state = next;
      this.processed(state, incarnation, message);
    }
    if (this.incarnationNumber !== incarnation) return budget;
    if (mailbox.size > 0 && this.isLive(incarnation)) this.requestTurn();
    else this.scheduled = false;
    return budget;
  }

  private receiveOne(behaviour: Behaviour<unknown>, state: unknown, message: unknown): unknown {
    if (behaviour.kind === 'stateless') {
      const done = behaviour.receive(message, this.context);
      return done instanceof Promise ? done.then(() => state) : state;
    }
    return behaviour.receive(state, message, this.context);
  }

  private async settle(pending: Promise<unknown>, state: unknown, message: unknown, incarnation: number, budget: number): Promise<number> {
    let next: unknown;
    try {
      next = await pending;
    } catch (error) {
      this.failed(error, message, incarnation);
      return budget;
    }
    this.processed(next, incarnation, message);
    return this.processBatch(next, incarnation, budget);
  }

  /** Counts a message that completed. Its state is the incarnation's only while that incarnation is live. */
  private processed(state: unknown, incarnation: number, message: unknown): void {
    this.processedCount++;
    this.system.counters.processed++;
    if (this.isLive(incarnation)) this.state = state;
    else {
      this.unappliedCount++;
      this.afterEnd(incarnation, message, undefined);
    }
  }

  private failed(error: unknown, message: unknown, incarnation: number): void {
    this.unappliedCount++;
    if (!this.isLive(incarnation)) {
      this.afterEnd(incarnation, message, toError(error));
      return;
    }
    this.processing = false;
    this.scheduled = false;
    this.fail(toError(error), message);
  }

  /**
   * Whether `incarnation` is the live one: not restarted or stopped, and not
   * failed (unless a resume kept it). Only a live incarnation's messages may
   * set its state or fail it; anything that reaches an incarnation after it is
   * over is recorded by `afterEnd` and goes no further.
   */
  private isLive(incarnation: number): boolean {
    return this.incarnationNumber === incarnation && this.canProcess() && !this.incarnationFailed;
  }

  private canProcess(): boolean {
    return this.status === 'running' || this.status === 'stopping';
  }

  /**
   * Records what reached an ended incarnation: a message in flight that settled
   * (failed with `error`, or succeeded and its state was discarded), or a kill.
   * It is not supervised, calls no `onStop` and costs no restart.
   */
  private afterEnd(incarnation: number, message: unknown, error: Error | undefined): void {
    const system = this.system;
    if (error) {
      this.failedAfterEndCount++;
      system.counters.failedAfterEnd++;
    }
    if (!system.events.hasListeners) return;
    const at = system.clock.now();
    system.emit(
      error
        ? { type: 'after-end', path: this.path, incarnation, message, outcome: 'failed', error, at }
        : { type: 'after-end', path: this.path, incarnation, message, outcome: 'succeeded', at },
    );
  }

  private scheduleIfNeeded(): void {
    if (!this.scheduled && this.initialised && this.canProcess() && this.mailbox.size > 0) this.requestTurn();
  }

  private refreshFaults(): void {
    this.faultVersion = this.system.faults.version;
    this.faultsApply = this.system.faults.hasRulesFor(this.path);
  }

  persist(message: unknown): Promise<void> {
    if (!this.persistFn) throw new SpawnError(`${this.path} is not persistent or has not recovered yet`);
    return this.persistFn(message);
  }

  // ---- failure and supervision ----------------------------------------------

  /**
   * Marks this actor's incarnation failed and hands the decision to its
   * parent. Safe to call from outside (kill). An incarnation fails once: a
   * failure after it has failed, restarted or stopped is recorded as
   * `after-end` and changes nothing.
   */
  fail(error: Error, message: unknown): void {
    if (!this.isLive(this.incarnationNumber)) {
      this.afterEnd(this.incarnationNumber, message, error);
      return;
    }
    this.incarnationFailed = true;
    this.failedCount++;
    this.lastError = error;
    this.system.counters.failed++;
    this.system.emit({ type: 'crashed', path: this.path, error, message, incarnation: this.incarnationNumber, at: this.system.clock.now() });
    if (this.status === 'stopping') {
      // Already on its way out: no supervision decision, the stop completes and the rest goes to dead letters.
      this.notifyIdle();
      return;
    }
    this.status = 'suspended';
    this.parent.childFailed(this, error, message);
  }

  childFailed(child: ActorCell, error: Error, message: unknown): void {
    superviseChild(this, child, error, message, (escalated) => this.fail(escalated, undefined));
  }

  resume(): void {
    if (this.status !== 'suspended') return;
    this.status = 'running';
    this.incarnationFailed = false;
    this.system.emit({ type: 'resumed', path: this.path, at: this.system.clock.now() });
    for (const child of this.children.values()) child.resume();
    if (this.initialised) this.scheduleIfNeeded();
    else this.restart(0, 0, 'failure');
  }

  /**
   * Ends the current incarnation now and starts the next after `delayMs`.
   * The mailbox is kept; children are stopped, as Akka and OTP do, and the
   * new incarnation's initial state may spawn them again. A message still in
   * flight runs to its end, but whatever it then does (fail, or return a
   * state) only reaches the event stream as `after-end`.
   */
  restart(attempt: number, delayMs: number, cause: 'failure' | 'sibling-failure'): void {
    if (this.status === 'stopped' || this.status === 'stopping') return;
    const alreadyEnded = this.status === 'restarting';
    this.status = 'restarting';
    this.pendingRestart?.cancel();
    this.afterDrain = undefined;
    // Restarted again before its next incarnation began (all-for-one): the incarnation has ended once, only the delay is new.
    if (!alreadyEnded) {
      for (const child of [...this.children.values()]) child.stopNow('parent-restarted');
      this.endIncarnation();
    }
    const start = (): void => {
      if (this.status !== 'restarting') return;
      this.incarnationNumber++;
      this.restartCount++;
      this.system.counters.restarts++;
      this.status = 'running';
      this.system.emit({ type: 'restarted', path: this.path, attempt, delayMs, cause, at: this.system.clock.now() });
      this.startIncarnation();
    };
    this.pendingRestart = this.system.clock.setTimeout(() => {
      this.pendingRestart = undefined;
      // A message still in flight (the actor was killed from outside, or a sibling failed) settles
      // first, so that what it persists is in the journal before the next incarnation recovers.
      if (this.processing) this.afterDrain = start;
      else start();
    }, delayMs);
  }

  // ---- stopping -------------------------------------------------------------

  /**
   * Graceful stop: refuse new messages, stop children (leaves first), let
   * the messages already queued be processed for up to `timeoutMs`, then
   * stop. Whatever is still queued then goes to dead letters.
   */
  stop(reason: StopReason, timeoutMs: number): Promise<void> {
    if (this.stopping) return this.stopping;
    if (this.status === 'stopped') return Promise.resolve();
    const wasRunning = this.status === 'running';
    this.status = 'stopping';
    this.stopping = (async () => {
      await Promise.all([...this.children.values()].map((child) => child.stop('parent-stopped', timeoutMs)));
      if (wasRunning) await this.whenIdle(timeoutMs);
      this.stopNow(reason);
    })();
    return this.stopping;
  }

  /**
   * Immediate stop, and the last step of a graceful one: children first (all
   * of them, or any a graceful stop left behind), then this actor.
   */
  stopNow(reason: StopReason): void {
    if (this.status === 'stopped') return;
    for (const child of [...this.children.values()]) child.stopNow('parent-stopped');
    this.pendingRestart?.cancel();
    this.pendingRestart = undefined;
    if (this.status !== 'restarting') this.endIncarnation();
    this.status = 'stopped';
    for (const message of this.mailbox.drainAll()) this.system.deadLetter(this.path, message, 'stopped');
    this.notifyIdle();
    this.parent.release(this);
    this.system.registry.removeEverywhere(this.ref);
    for (const target of this.watching ?? []) target.watchers?.delete(this);
    this.watching = undefined;
    const system = this.system;
    system.counters.stopped++;
    system.counters.liveActors--;
    system.emit({ type: 'stopped', path: this.path, reason, at: system.clock.now() });
    const watchers = this.watchers;
    this.watchers = undefined;
    for (const [watcher, message] of watchers ?? []) watcher.deliver(message);
  }

  /** Resolves once nothing is left to process: the mailbox is empty, or the incarnation failed and will take no more. */
  private whenIdle(timeoutMs: number): Promise<void> {
    if (this.incarnationFailed || (!this.processing && this.mailbox.size === 0)) return Promise.resolve();
    if (this.status !== 'stopping' || !this.initialised) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = this.system.clock.setTimeout(done, timeoutMs);
      (this.idleWaiters ??= []).push(done);
      function done(): void {
        timer.cancel();
        resolve();
      }
    });
  }

  private notifyIdle(): void {
    const waiters = this.idleWaiters;
    if (!waiters) return;
    this.idleWaiters = undefined;
    for (const waiter of waiters) waiter();
  }

  // ---- death-watch ----------------------------------------------------------

  /** `watcher` receives `message` when this actor stops; at once if it already has. */
  addWatcher(watcher: MessageTarget, message: unknown): void {
    if (this.status === 'stopped') {
      watcher.deliver(message);
      return;
    }
    (this.watchers ??= new Map()).set(watcher, message);
    if (watcher instanceof ActorCell) (watcher.watching ??= new Set()).add(this);
  }

  removeWatcher(watcher: MessageTarget): void {
    this.watchers?.delete(watcher);
    if (watcher instanceof ActorCell) watcher.watching?.delete(this);
  }
}

/**
 * Applies the child's policy to one failure. Shared by cells and the guardian;
 * `escalate` is what the supervisor does when the decision is not its to
 * make (a cell fails in turn; the guardian stops the child).
 */
export function superviseChild(
  supervisor: Supervisor,
  child: ActorCell,
  error: Error,
  message: unknown,
  escalate: (error: Error) => void,
): void {
  const system = child.system;
  const policy = child.policy;
  const directive = directiveFor(policy, error, message);
  const affected = policy.strategy === 'all-for-one' ? [...supervisor.children.values()] : [child];
  switch (directive) {
    case 'resume':
      child.resume();
      return;
    case 'stop':
      for (const cell of affected) cell.stopNow('failure');
      return;
    case 'escalate':
      system.counters.escalations++;
      system.emit({ type: 'escalated', path: child.path, to: supervisor.path, error, at: system.clock.now() });
      escalate(new EscalationError(child.path, error));
      return;
    case 'restart': {
      const attempt = admitRestart(child.restartLog, policy, system.clock.now());
      if (attempt === undefined) {
        system.counters.escalations++;
        system.emit({ type: 'escalated', path: child.path, to: supervisor.path, error, at: system.clock.now() });
        for (const cell of affected) cell.stopNow('restart-budget');
        escalate(new RestartBudgetExceededError(child.path, policy.maxRestarts, policy.withinMs, error));
        return;
      }
      const delayMs = backoffDelay(policy.backoff, attempt, child.backoffRandom);
      for (const cell of affected) {
        if (cell === child) cell.restart(attempt, delayMs, 'failure');
        else cell.restart(0, delayMs, 'sibling-failure');
      }
    }
  }
}

function sleep(system: System, ms: number): Promise<void> {
  return new Promise((resolve) => system.clock.setTimeout(resolve, ms));
}

/** The context handed to behaviours: one object per cell, methods on the prototype, nothing copied per message. */
class CellContext implements PersistentContext<unknown> {
  constructor(private readonly cell: ActorCell) {}

  get self(): ActorRef<unknown> {
    return this.cell.ref;
  }

  get path(): string {
    return this.cell.path;
  }

  get name(): string {
    return this.cell.name;
  }

  get parent(): AnyActorRef | undefined {
    const parent = this.cell.parent;
    return parent instanceof ActorCell ? parent.ref : undefined;
  }

  get incarnation(): number {
    return this.cell.incarnation;
  }

  get clock(): Clock {
    return this.cell.system.clock;
  }

  get timers(): TimerSet<unknown> {
    return this.cell.timers;
  }

  get recovering(): boolean {
    return false;
  }

  spawn<ChildMsg>(behaviour: Behaviour<ChildMsg>, options?: SpawnOptions): ActorRef<ChildMsg> {
    return ActorCell.spawn(this.cell.system, this.cell, behaviour as Behaviour<unknown>, options).ref;
  }

  stop(child: AnyActorRef): Promise<void> {
    const target = targetOf(child);
    return target instanceof ActorCell ? target.stop('requested', STOP_TIMEOUT_MS) : Promise.resolve();
  }

  children(): readonly AnyActorRef[] {
    return [...this.cell.children.values()].map((child) => child.ref);
  }

  child(name: string): AnyActorRef | undefined {
    return this.cell.children.get(name)?.ref;
  }

  watch(target: AnyActorRef): void {
    const terminated: Terminated = { type: 'terminated', ref: target, path: target.path };
    this.watchWith(target, terminated);
  }

  watchWith(target: AnyActorRef, message: unknown): void {
    const cell = targetOf(target);
    if (cell instanceof ActorCell) cell.addWatcher(this.cell, message);
  }

  unwatch(target: AnyActorRef): void {
    const cell = targetOf(target);
    if (cell instanceof ActorCell) cell.removeWatcher(this.cell);
  }

  persist(message: unknown): Promise<void> {
    return this.cell.persist(message);
  }
}

/** The cell's context seen during journal replay: `recovering` is set and `persist` refuses. */
function recoveryContext(base: CellContext): PersistentContext<unknown> {
  return Object.create(base, {
    recovering: { value: true },
    persist: { value: () => Promise.reject(new SpawnError(`${base.path}: persist() called while recovering`)) },
  }) as PersistentContext<unknown>;
}

/** How long `ctx.stop(child)` lets a child work through its mailbox. */
export const STOP_TIMEOUT_MS = 5_000;
