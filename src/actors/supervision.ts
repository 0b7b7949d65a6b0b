import type { BackoffOptions } from './backoff.js';
import { SupervisionConfigError } from './errors.js';

/**
 * What a parent does when a child fails:
 * - `restart`: a new incarnation with fresh state (persistent actors recover
 *   theirs from the journal); the mailbox is kept, the failing message is
 *   recorded on the `crashed` event and not retried; children are stopped.
 * - `resume`: keep state and go on with the next message.
 * - `stop`: stop the child; what is left in its mailbox goes to dead letters.
 * - `escalate`: the parent fails in turn, and the grandparent's policy for it decides.
 */
export type Directive = 'restart' | 'resume' | 'stop' | 'escalate';

/** one-for-one: the decision applies to the failing child; all-for-one: to it and all its siblings. */
export type SupervisionStrategy = 'one-for-one' | 'all-for-one';

/** Declared per child at spawn. Every field is optional; see `DEFAULT_SUPERVISION`. */
export interface SupervisionPolicy {
  readonly directive?: Directive;
  /** Picks a directive from the error (and the failing message); `undefined` falls back to `directive`. */
  readonly decide?: (error: Error, message: unknown) => Directive | undefined;
  readonly strategy?: SupervisionStrategy;
  readonly backoff?: Partial<BackoffOptions>;
  /** The restart budget, as Erlang/OTP's intensity/period: more than `maxRestarts` within `withinMs` escalates. */
  readonly maxRestarts?: number;
  readonly withinMs?: number;
}

export interface ResolvedSupervision {
  readonly directive: Directive;
  readonly decide: ((error: Error, message: unknown) => Directive | undefined) | undefined;
  readonly strategy: SupervisionStrategy;
  readonly backoff: BackoffOptions;
  readonly maxRestarts: number;
  readonly withinMs: number;
}

/**
 * The default, as in Akka and OTP: restart, one child at a time, after
 * 10 ms doubling up to 5 s with 20% jitter, at most 10 restarts a minute
 * before the failure escalates to the parent.
 */
export const DEFAULT_SUPERVISION: ResolvedSupervision = {
  directive: 'restart',
  decide: undefined,
  strategy: 'one-for-one',
  backoff: { minMs: 10, maxMs: 5_000, factor: 2, jitter: 0.2 },
  maxRestarts: 10,
  withinMs: 60_000,
};

const DIRECTIVES: readonly Directive[] = ['restart', 'resume', 'stop', 'escalate'];

export function resolveSupervision(policy: SupervisionPolicy | undefined): ResolvedSupervision {
  if (!policy) return DEFAULT_SUPERVISION;
  const backoff = { ...DEFAULT_SUPERVISION.backoff, ...policy.backoff };
  const resolved: ResolvedSupervision = {
    directive: policy.directive ?? DEFAULT_SUPERVISION.directive,
    decide: policy.decide,
    strategy: policy.strategy ?? DEFAULT_SUPERVISION.strategy,
    backoff,
    maxRestarts: policy.maxRestarts ?? DEFAULT_SUPERVISION.maxRestarts,
    withinMs: policy.withinMs ?? DEFAULT_SUPERVISION.withinMs,
  };
  if (!DIRECTIVES.includes(resolved.directive)) {
    throw new SupervisionConfigError('directive', `must be one of ${DIRECTIVES.join(', ')}, got ${String(resolved.directive)}`);
  }
  if (resolved.strategy !== 'one-for-one' && resolved.strategy !== 'all-for-one') {
    throw new SupervisionConfigError('strategy', `must be one-for-one or all-for-one, got ${String(resolved.strategy)}`);
  }
  requireNumber('backoff.minMs', backoff.minMs, 0);
  requireNumber('backoff.maxMs', backoff.maxMs, backoff.minMs);
  requireNumber('backoff.factor', backoff.factor, 1);
  requireNumber('backoff.jitter', backoff.jitter, 0, 1);
  requireNumber('maxRestarts', resolved.maxRestarts, 0);
  requireNumber('withinMs', resolved.withinMs, 1);
  return resolved;
}

function requireNumber(option: string, value: number, min: number, max = Number.POSITIVE_INFINITY): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    const range = max === Number.POSITIVE_INFINITY ? `>= ${min}` : `in [${min}, ${max}]`;
    throw new SupervisionConfigError(option, `must be a finite number ${range}, got ${String(value)}`);
  }
}

/** Applies a decision by error class: the first case whose class matches wins. */
export function decideByErrorClass(
  cases: ReadonlyArray<readonly [abstract new (...args: never[]) => Error, Directive]>,
): (error: Error) => Directive | undefined {
  return (error) => cases.find(([errorClass]) => error instanceof errorClass)?.[1];
}

/** The directive for this failure: the decision function first, then the declared directive. */
export function directiveFor(policy: ResolvedSupervision, error: Error, message: unknown): Directive {
  const decided = policy.decide?.(error, message);
  return decided !== undefined && DIRECTIVES.includes(decided) ? decided : policy.directive;
}

/**
 * Tracks restarts inside the sliding window. Returns the attempt number for
 * a restart that fits the budget, or undefined when the budget is spent.
 */
export function admitRestart(log: number[], policy: ResolvedSupervision, now: number): number | undefined {
  while (log.length > 0 && now - (log[0] as number) >= policy.withinMs) log.shift();
  if (log.length >= policy.maxRestarts) return undefined;
  log.push(now);
  return log.length;
}
