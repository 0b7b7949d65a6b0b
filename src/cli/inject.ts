import { SwarmbankError } from '../errors.js';
import type { Deployment } from '../topologies/deployment.js';

/** One `--inject` of `swarmbank run`: what to do to which actor, before which episode. */
export interface Injection {
  /** `crash` fails the actor, as a kill, and its supervisor decides; `stop` stops it for good. */
  readonly action: 'crash' | 'stop';
  /** The actor's name under the topology (`agent-2`, `leader`), or a path from `/`. */
  readonly actor: string;
  /** Before this episode (1-based) starts. */
  readonly episode: number;
}

export class InjectionSpecError extends SwarmbankError {
  constructor(readonly spec: string, reason: string) {
    super('INJECTION_SPEC', `--inject ${JSON.stringify(spec)}: ${reason}; expected <crash|stop>:<actor>@episode:<n>, e.g. crash:agent-2@episode:10`);
  }
}

const FORMAT = /^(crash|stop):([A-Za-z0-9_.~/-]+)@episode:(\d+)$/;

export function parseInjection(spec: string): Injection {
  const match = FORMAT.exec(spec.trim());
  if (match === null) throw new InjectionSpecError(spec, 'not understood');
  const episode = Number(match[3]);
  if (!Number.isSafeInteger(episode) || episode < 1) throw new InjectionSpecError(spec, 'the episode must be 1 or later');
  return { action: match[1] as Injection['action'], actor: match[2]!, episode };
}

/**
 * Arms the injections on a deployment about to run: each fires when the
 * episode before its own has been evaluated (or at once, for episode 1).
 * Every actor named must be live when they are armed, or it is an error
 * naming the actors that are; one gone by its turn (stopped by an earlier
 * injection) is reported as skipped. Returns the disarm.
 */
export function armInjections(deployment: Deployment, injections: readonly Injection[], report: (injection: Injection, path: string, fired: boolean) => void): () => void {
  const pathOf = (injection: Injection) => (injection.actor.startsWith('/') ? injection.actor : `/${deployment.topology}/${injection.actor}`);
  for (const injection of injections) {
    if (deployment.runtime.lookup(pathOf(injection)) !== undefined) continue;
    const live = deployment.runtime.actorMetrics().map((m) => m.path).filter((p) => p.startsWith(`/${deployment.topology}/`));
    throw new InjectionSpecError(`${injection.action}:${injection.actor}@episode:${injection.episode}`, `no actor at ${pathOf(injection)} (actors: ${live.join(', ')})`);
  }
  const fire = (injection: Injection) => {
    const path = pathOf(injection);
    const ref = deployment.runtime.lookup(path);
    if (ref !== undefined) {
      if (injection.action === 'crash') deployment.runtime.faults.kill(ref);
      else void deployment.runtime.stop(ref);
    }
    report(injection, path, ref !== undefined);
  };
  for (const injection of injections) if (injection.episode === 1) fire(injection);
  return deployment.events.on('episode', ({ episode }) => {
    for (const injection of injections) if (injection.episode === episode + 1) fire(injection);
  });
}
