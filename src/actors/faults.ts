import { SwarmbankError } from '../errors.js';
import { createRandom, isSeed, MAX_SEED, MIN_SEED, type Random } from '../random.js';
import type { ActorContext, Behaviour, PersistentContext } from './behaviour.js';
import type { Clock, TimerHandle } from './clock.js';
import type { AnyActorRef } from './ref.js';
import type { FaultHook, FaultVerdict, System } from './system.js';

/** Thrown in place of a behaviour's `receive` by an injected crash. */
export class InjectedFaultError extends SwarmbankError {
  constructor(
    readonly path: string,
    detail: string,
  ) {
    super('INJECTED_FAULT', `injected fault at ${path}: ${detail}`);
  }
}

/** The failure an actor gets when it is killed from outside. */
export class ActorKilledError extends SwarmbankError {
  constructor(readonly path: string) {
    super('ACTOR_KILLED', `actor ${path} was killed`);
  }
}

/** A fault definition that names what is wrong when it is invalid. */
export class FaultPlanError extends SwarmbankError {
  constructor(message: string) {
    super('FAULT_PLAN_INVALID', message);
  }
}

/** When a rule fires, counted per actor. Without a trigger it fires on every message. */
export type FaultTrigger =
  | { readonly nth: number }
  | { readonly when: (message: unknown) => boolean }
  | { readonly probability: number };

export type FaultAction =
  | { readonly kind: 'crash'; readonly reason?: string }
  | { readonly kind: 'delay'; readonly ms: number }
  | { readonly kind: 'drop' };

export interface FaultRule {
  /** Actor paths: `*` matches one path segment, `**` any number (`/swarm/agent-*`, `/**`). */
  readonly path: string;
  readonly action: FaultAction;
  readonly trigger?: FaultTrigger;
  /** Fire at most this many times in all (default: no limit). */
  readonly times?: number;
}

export interface FaultHandle {
  /** How many times the rule has fired so far. */
  readonly fired: number;
  remove(): void;
}

/** A scripted sequence of faults, replayable: the same seed against the same workload gives the same events. */
export interface FaultPlan {
  readonly seed: number;
  readonly steps: readonly FaultStep[];
}

export type FaultStepTrigger =
  | { readonly afterMs: number }
  /** After this many messages reached actors matching `path` (default every actor) since the plan started. */
  | { readonly afterMessages: number; readonly path?: string };

export type FaultStep =
  | { readonly at: FaultStepTrigger; readonly inject: FaultRule }
  /** Kills the matching live actors: all of them, or one picked with the plan's seed. */
  | { readonly at: FaultStepTrigger; readonly kill: string; readonly pick?: 'all' | 'one' };

export interface FaultPlanRun {
  /** Resolves once every step has fired. */
  readonly done: Promise<void>;
  /** Disarms the steps that have not fired and removes the rules the plan installed. */
  cancel(): void;
}

/** What the injector needs from the runtime to kill actors it does not hold refs to. */
export interface KillTarget {
  readonly path: string;
  readonly isStopped: boolean;
  fail(error: Error, message: unknown): void;
}

interface ActiveRule {
  readonly pattern: RegExp;
  /** Called for every message reaching a matching actor; a verdict interferes, undefined lets it through. */
  onMessage(path: string, message: unknown): FaultVerdict | undefined;
}

/**
 * Breaks a running system on purpose. Rules match actors by path and act on
 * the messages they are about to process (crash, delay, drop); `kill` fails
 * an actor from outside, as Akka's Kill message does. Every fault is
 * published as a `fault-injected` event, so a dropped message is never lost
 * silently.
 */
export class FaultInjector implements FaultHook {
  private rules: ActiveRule[] = [];
  private versionNumber = 0;
  private readonly runs = new Set<FaultPlanRun>();

  constructor(
    private readonly system: System,
    private readonly liveActors: () => Iterable<KillTarget>,
    private readonly resolve: (ref: AnyActorRef) => KillTarget | undefined,
  ) {}

  get version(): number {
    return this.versionNumber;
  }

  hasRulesFor(path: string): boolean {
    return this.rules.some((rule) => rule.pattern.test(path));
  }

  verdict(path: string, message: unknown): FaultVerdict | undefined {
    let verdict: FaultVerdict | undefined;
    for (const rule of this.rules) {
      if (!rule.pattern.test(path)) continue;
      const decided = rule.onMessage(path, message);
      verdict ??= decided;
    }
    if (verdict) this.record(path, verdict.kind, message);
    return verdict;
  }

  /** Installs a rule; probabilities draw from `random` (by default a stream forked from the runtime's seed). */
  inject(rule: FaultRule, random: Random = this.system.random.fork(`fault-rule-${this.versionNumber}`)): FaultHandle {
    validateRule(rule);
    const counts = new Map<string, number>();
    // One random stream per actor: an actor's faults depend on its own messages only, not on how actors interleave.
    const streams = new Map<string, Random>();
    const streamFor = (path: string): Random => {
      let stream = streams.get(path);
      if (!stream) streams.set(path, (stream = random.fork(path)));
      return stream;
    };
    let fired = 0;
    const limit = rule.times ?? Number.POSITIVE_INFINITY;
    const trigger = rule.trigger;
    const active: ActiveRule = {
      pattern: pathPattern(rule.path),
      onMessage: (path, message) => {
        if (fired >= limit) return undefined;
        const count = (counts.get(path) ?? 0) + 1;
        counts.set(path, count);
        if (!triggers(trigger, count, message, streamFor(path))) return undefined;
        fired++;
        if (fired >= limit) this.removeRule(active);
        return toVerdict(rule.action, path);
      },
    };
    this.addRule(active);
    return {
      get fired() {
        return fired;
      },
      remove: () => this.removeRule(active),
    };
  }

  /**
   * Fails a live actor from outside; its supervisor decides what happens next. False if it had stopped.
   * An actor between incarnations (waiting out a restart backoff) has nothing to kill: the kill is
   * recorded as `after-end`, and neither restarts it again nor charges its restart budget.
   */
  kill(ref: AnyActorRef): boolean {
    const target = this.resolve(ref);
    if (!target || target.isStopped) return false;
    this.killTarget(target);
    return true;
  }

  run(plan: FaultPlan): FaultPlanRun {
    validatePlan(plan);
    const random = createRandom(plan.seed);
    const timers: TimerHandle[] = [];
    const installed: FaultHandle[] = [];
    const counters: ActiveRule[] = [];
    let remaining = plan.steps.length;
    let finish!: () => void;
    const done = new Promise<void>((resolve) => (finish = resolve));
    if (remaining === 0) finish();

    plan.steps.forEach((step, index) => {
      const stepRandom = random.fork(`step-${index}`);
      const fire = (): void => {
        if ('inject' in step) installed.push(this.inject(step.inject, stepRandom));
        else this.killMatching(step.kill, step.pick ?? 'all', stepRandom);
        if (--remaining === 0) finish();
      };
      const at = step.at;
      if ('afterMs' in at) {
        timers.push(this.system.clock.setTimeout(fire, at.afterMs));
        return;
      }
      let seen = 0;
      const counter: ActiveRule = {
        pattern: pathPattern(at.path ?? '/**'),
        onMessage: () => {
          if (++seen === at.afterMessages) {
            this.removeRule(counter);
            // After the current message, so that a kill does not interrupt the message that tripped the count.
            timers.push(this.system.clock.setTimeout(fire, 0));
          }
          return undefined;
        },
      };
      counters.push(counter);
      this.addRule(counter);
    });

    const planRun: FaultPlanRun = {
      done,
      cancel: () => {
        this.runs.delete(planRun);
        for (const timer of timers) timer.cancel();
        for (const counter of counters) this.removeRule(counter);
        for (const handle of installed) handle.remove();
      },
    };
    this.runs.add(planRun);
    return planRun;
  }

  /** Cancels every running plan and removes every rule. */
  clear(): void {
    for (const planRun of [...this.runs]) planRun.cancel();
    this.rules = [];
    this.versionNumber++;
  }

  private killMatching(pattern: string, pick: 'all' | 'one', random: Random): void {
    const regex = pathPattern(pattern);
    const matching = [...this.liveActors()].filter((actor) => !actor.isStopped && regex.test(actor.path));
    matching.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    if (matching.length === 0) return;
    const chosen = pick === 'one' ? [matching[random.int(0, matching.length - 1)] as KillTarget] : matching;
    for (const target of chosen) this.killTarget(target);
  }

  private killTarget(target: KillTarget): void {
    this.record(target.path, 'kill', undefined);
    target.fail(new ActorKilledError(target.path), undefined);
  }

  private record(path: string, fault: 'crash' | 'delay' | 'drop' | 'kill', message: unknown): void {
    this.system.counters.faultsInjected++;
    this.system.emit({ type: 'fault-injected', path, fault, message, at: this.system.clock.now() });
  }

  private addRule(rule: ActiveRule): void {
    this.rules = [...this.rules, rule];
    this.versionNumber++;
  }

  private removeRule(rule: ActiveRule): void {
    if (!this.rules.includes(rule)) return;
    this.rules = this.rules.filter((r) => r !== rule);
    this.versionNumber++;
  }
}

/**
 * Wraps a behaviour so that it crashes, stalls or swallows messages on
 * purpose, without a runtime-level rule: for a user's own actor in a test.
 * Its counters live in the wrapper and survive restarts, so "crash on the
 * 3rd message" means the 3rd message the actor ever gets. Crashes go through
 * supervision and are recorded as usual; messages it drops are the wrapping
 * test's own business and are not published (rules installed with
 * `runtime.faults.inject` publish theirs).
 */
export function withFaults<Msg>(
  behaviour: Behaviour<Msg>,
  rule: Omit<FaultRule, 'path'> & { readonly seed?: number },
): Behaviour<Msg> {
  validateRule({ ...rule, path: '/**' });
  if (rule.seed !== undefined) checkSeed(rule.seed, 'fault seed');
  const random = createRandom(rule.seed ?? 0);
  let count = 0;
  let fired = 0;
  const limit = rule.times ?? Number.POSITIVE_INFINITY;
  const check = (message: unknown, path: string): FaultVerdict | undefined => {
    count++;
    if (fired >= limit || !triggers(rule.trigger, count, message, random)) return undefined;
    fired++;
    return toVerdict(rule.action, path);
  };
  // Returns whether the message should reach the wrapped behaviour.
  const apply = async (verdict: FaultVerdict | undefined, clock: Clock): Promise<boolean> => {
    if (!verdict) return true;
    if (verdict.kind === 'crash') throw verdict.error;
    if (verdict.kind === 'delay') await new Promise<void>((resolve) => clock.setTimeout(resolve, verdict.ms));
    return verdict.kind !== 'drop';
  };
  if (behaviour.kind === 'stateless') {
    return {
      ...behaviour,
      receive: async (message: Msg, ctx: ActorContext<Msg>) => {
        if (await apply(check(message, ctx.path), ctx.clock)) await behaviour.receive(message, ctx);
      },
    } as Behaviour<Msg>;
  }
  return {
    ...behaviour,
    receive: async (state: unknown, message: Msg, ctx: ActorContext<Msg>) => {
      const pass = await apply(check(message, ctx.path), ctx.clock);
      return pass ? behaviour.receive(state, message, ctx as PersistentContext<Msg>) : state;
    },
  } as Behaviour<Msg>;
}

function triggers(trigger: FaultTrigger | undefined, count: number, message: unknown, random: Random): boolean {
  if (!trigger) return true;
  if ('nth' in trigger) return count === trigger.nth;
  if ('when' in trigger) return trigger.when(message);
  return random.next() < trigger.probability;
}

function toVerdict(action: FaultAction, path: string): FaultVerdict {
  switch (action.kind) {
    case 'crash':
      return { kind: 'crash', error: new InjectedFaultError(path, action.reason ?? 'crash') };
    case 'delay':
      return { kind: 'delay', ms: action.ms };
    case 'drop':
      return { kind: 'drop' };
  }
}

/** `*` is one path segment, `**` any run of segments; everything else is literal. */
export function pathPattern(pattern: string): RegExp {
  if (!pattern.startsWith('/')) throw new FaultPlanError(`path pattern "${pattern}" must start with "/"`);
  const source = pattern
    .split(/(\*\*|\*)/)
    .map((part) => (part === '**' ? '.*' : part === '*' ? '[^/]+' : part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${source}$`);
}

function validateRule(rule: FaultRule): void {
  pathPattern(rule.path);
  const action = rule.action as { kind?: unknown; ms?: unknown };
  if (action?.kind !== 'crash' && action?.kind !== 'delay' && action?.kind !== 'drop') {
    throw new FaultPlanError(`fault action kind must be crash, delay or drop, got ${String(action?.kind)}`);
  }
  if (action.kind === 'delay' && !(typeof action.ms === 'number' && action.ms >= 0)) {
    throw new FaultPlanError(`delay fault needs ms >= 0, got ${String(action.ms)}`);
  }
  const trigger = rule.trigger as { nth?: unknown; probability?: unknown } | undefined;
  if (trigger && 'nth' in trigger && !(Number.isInteger(trigger.nth) && (trigger.nth as number) >= 1)) {
    throw new FaultPlanError(`trigger.nth must be an integer >= 1, got ${String(trigger.nth)}`);
  }
  if (trigger && 'probability' in trigger) {
    const p = trigger.probability;
    if (!(typeof p === 'number' && p >= 0 && p <= 1)) throw new FaultPlanError(`trigger.probability must be in [0, 1], got ${String(p)}`);
  }
  if (rule.times !== undefined && !(Number.isInteger(rule.times) && rule.times >= 1)) {
    throw new FaultPlanError(`times must be an integer >= 1, got ${String(rule.times)}`);
  }
}

function checkSeed(seed: unknown, what: string): void {
  if (!isSeed(seed)) {
    throw new FaultPlanError(`${what} must be an integer from ${MIN_SEED} to ${MAX_SEED}, got ${String(seed)}`);
  }
}

function validatePlan(plan: FaultPlan): void {
  checkSeed(plan.seed, 'plan seed');
  plan.steps.forEach((step, index) => {
    const at = step.at as { afterMs?: unknown; afterMessages?: unknown };
    const valid =
      (typeof at?.afterMs === 'number' && at.afterMs >= 0) ||
      (Number.isInteger(at?.afterMessages) && (at.afterMessages as number) >= 1);
    if (!valid) throw new FaultPlanError(`step ${index}: "at" needs afterMs >= 0 or afterMessages >= 1`);
    if ('inject' in step) validateRule(step.inject);
    else if ('kill' in step) pathPattern(step.kill);
    else throw new FaultPlanError(`step ${index}: needs "inject" or "kill"`);
  });
}
