import { Counter, Gauge, Registry } from 'prom-client';
import type { Runtime } from './runtime.js';

export interface PrometheusOptions {
  /** Register here, e.g. the embedding service's own registry. Default: a new one. */
  readonly registry?: Registry;
  /** Default `swarmbank_`. */
  readonly prefix?: string;
  /** Per-actor series (mailbox depth, restarts, processed, by path). Default true; turn off for very large systems. */
  readonly perActor?: boolean;
}

/**
 * Exposes the runtime's metrics in Prometheus text format through
 * `prom-client`. Nothing is counted twice: every series is read from the
 * runtime when the registry is scraped, so exposing metrics costs nothing
 * between scrapes. Counters carry the runtime's totals (reset and set at
 * each scrape, since the runtime, not prom-client, does the counting).
 */
export function exposeRuntimeMetrics(runtime: Runtime, options: PrometheusOptions = {}): Registry {
  const registry = options.registry ?? new Registry();
  const prefix = options.prefix ?? 'swarmbank_';
  const labels = { runtime: runtime.name };
  const totals = [
    ['messages_processed_total', 'Messages actors completed.', 'processed'],
    ['actor_failures_total', 'Failures of live incarnations (each a crashed event).', 'failed'],
    ['actor_failures_after_end_total', 'Failures of messages whose incarnation had already ended.', 'failedAfterEnd'],
    ['restarts_total', 'Restarts by supervision.', 'restarts'],
    ['escalations_total', 'Failures escalated to a parent.', 'escalations'],
    ['dead_letters_total', 'Messages that reached no actor.', 'deadLetters'],
    ['faults_injected_total', 'Faults injected on purpose.', 'faultsInjected'],
    ['actors_spawned_total', 'Actors spawned.', 'spawned'],
  ] as const;
  for (const [name, help, field] of totals) {
    new Counter({
      name: `${prefix}${name}`,
      help,
      labelNames: ['runtime'],
      registers: [registry],
      collect() {
        this.reset();
        this.inc(labels, runtime.metrics()[field]);
      },
    });
  }
  for (const [name, help, field] of [
    ['actors_live', 'Actors alive now.', 'liveActors'],
    ['asks_pending', 'Asks waiting for their reply.', 'pendingAsks'],
  ] as const) {
    new Gauge({ name: `${prefix}${name}`, help, labelNames: ['runtime'], registers: [registry], collect() {
      this.set(labels, runtime.metrics()[field]);
    } });
  }
  if (options.perActor !== false) {
    const perActor = [
      ['actor_mailbox_depth', 'Messages waiting in the actor’s mailbox.', 'mailboxDepth'],
      ['actor_restarts', 'Restarts of the actor.', 'restarts'],
      ['actor_processed', 'Messages the actor completed.', 'processed'],
    ] as const;
    for (const [name, help, field] of perActor) {
      new Gauge({ name: `${prefix}${name}`, help, labelNames: ['runtime', 'path'], registers: [registry], collect() {
        this.reset();
        for (const actor of runtime.actorMetrics()) this.set({ ...labels, path: actor.path }, actor[field]);
      } });
    }
  }
  return registry;
}
