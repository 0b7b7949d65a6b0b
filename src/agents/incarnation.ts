import { AgentSession, type SessionSettings } from './session.js';

/**
 * The session of one incarnation of an agent and the work it is doing.
 * An actor's initial state is synchronous, so the session opens in the
 * background and each message waits for it; the mailbox holds the next
 * message meanwhile, so the learner is loaded before any message is handled.
 *
 * The runtime ends an incarnation (restart, stop, kill) without waiting for
 * the message in flight, which still runs to its end and may commit. `end`
 * therefore closes the session only once that work has settled.
 */
export class Incarnation {
  private readonly session: Promise<AgentSession>;
  private work: Promise<unknown>;
  private ended: Promise<void> | undefined;

  constructor(settings: SessionSettings) {
    this.session = AgentSession.open(settings);
    // A session that fails to open fails the first message, which supervision sees; until then the rejection is held here.
    this.work = this.session.catch(() => undefined);
  }

  run<T>(task: (session: AgentSession) => Promise<T>): Promise<T> {
    const result = this.session.then(task);
    this.work = result.catch(() => undefined);
    return result;
  }

  /**
   * Closes the session after the work in flight. Never rejects: it runs
   * after the incarnation is gone, with nobody to tell; an environment left
   * broken shows when the directory is next opened. Closes once however
   * often it is called.
   */
  end(): Promise<void> {
    this.ended ??= this.work
      .then(() => this.session)
      .then((session) => session.close())
      .catch(() => undefined);
    return this.ended;
  }
}
