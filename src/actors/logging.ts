import type { Unsubscribe } from './events.js';
import type { Runtime } from './runtime.js';

/**
 * What swarmbank needs of a logger: pino's shape (an object of fields, then
 * a message), so a pino logger — or any logger with these four methods —
 * can be passed as it is. The library never logs unless given one.
 */
export interface Logger {
  debug(fields: object, message: string): void;
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

/**
 * Logs the runtime's lifecycle events as structured records: failures and
 * escalations as warnings and errors, restarts as info, the rest (spawns,
 * stops, dead letters, injected faults) as debug. Returns the unsubscribe.
 */
export function logRuntimeEvents(runtime: Runtime, logger: Logger): Unsubscribe {
  return runtime.events.subscribe((event) => {
    switch (event.type) {
      case 'crashed':
        logger.warn({ path: event.path, incarnation: event.incarnation, error: event.error.message }, 'actor crashed');
        return;
      case 'restarted':
        logger.info({ path: event.path, attempt: event.attempt, delayMs: event.delayMs }, 'actor restarted');
        return;
      case 'escalated':
        logger.error({ path: event.path, to: event.to, error: event.error.message }, 'failure escalated');
        return;
      case 'after-end':
        logger.warn({ path: event.path, outcome: event.outcome }, 'message finished after its incarnation ended');
        return;
      case 'listener-failed':
        logger.error({ error: event.error.message }, 'event listener failed and was removed');
        return;
      case 'dead-letter':
        logger.debug({ path: event.path, reason: event.reason }, 'dead letter');
        return;
      case 'member-up':
        logger.info({ node: event.node, address: event.address, protocol: event.protocol }, 'cluster member up');
        return;
      case 'member-unreachable':
        logger.warn({ node: event.node, silentMs: event.silentMs }, 'cluster member unreachable');
        return;
      case 'member-down':
        logger.info({ node: event.node, reason: event.reason }, 'cluster member down');
        return;
      case 'peer-refused':
        logger.warn({ address: event.address, node: event.node, reason: event.reason }, 'peer refused');
        return;
      default:
        logger.debug({ ...('path' in event ? { path: event.path } : {}) }, event.type);
    }
  });
}
