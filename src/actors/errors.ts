import { SwarmbankError } from '../errors.js';

/** An `ask` got no reply in time. */
export class AskTimeoutError extends SwarmbankError {
  constructor(
    readonly path: string,
    readonly timeoutMs: number,
  ) {
    super('ASK_TIMEOUT', `ask to ${path} got no reply within ${timeoutMs} ms`);
  }
}

/** An `ask` was sent to an actor that had already stopped; the message went to dead letters. */
export class ActorStoppedError extends SwarmbankError {
  constructor(readonly path: string) {
    super('ACTOR_STOPPED', `actor ${path} is stopped; the message went to dead letters`);
  }
}

/** A spawn was refused: bad name, duplicate name, stopped parent or runtime. */
export class SpawnError extends SwarmbankError {
  constructor(message: string) {
    super('SPAWN_FAILED', message);
  }
}

/** A child escalated its failure; its parent fails with this, carrying the child's error as cause. */
export class EscalationError extends SwarmbankError {
  constructor(
    readonly childPath: string,
    cause: Error,
  ) {
    super('ESCALATED', `child ${childPath} escalated: ${cause.message}`, { cause });
  }
}

/** A child restarted more than its budget allows within the window; it is stopped and its parent fails with this. */
export class RestartBudgetExceededError extends SwarmbankError {
  constructor(
    readonly childPath: string,
    readonly maxRestarts: number,
    readonly withinMs: number,
    cause: Error,
  ) {
    super(
      'RESTART_BUDGET_EXCEEDED',
      `child ${childPath} failed after ${maxRestarts} restarts within ${withinMs} ms: ${cause.message}`,
      { cause },
    );
  }
}

/** A supervision option is out of range; names the option. */
export class SupervisionConfigError extends SwarmbankError {
  constructor(
    readonly option: string,
    message: string,
  ) {
    super('SUPERVISION_CONFIG', `supervision.${option}: ${message}`);
  }
}
