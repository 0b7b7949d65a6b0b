import { logRuntimeEvents, type Logger } from '../actors/logging.js';
import type { Deployment } from './deployment.js';

/**
 * Logs a deployment: its runtime's lifecycle (see `logRuntimeEvents`) and
 * its own decisions — scaling, cutover, rollback, rotation and transfers at
 * info with their cause, each episode's accuracy at info, syncs and votes at
 * debug (there is one per peer pair per round). Returns the unsubscribe.
 */
export function logDeployment(deployment: Deployment, logger: Logger): () => void {
  const runtime = logRuntimeEvents(deployment.runtime, logger);
  const own = deployment.events.subscribe((event) => {
    const { type, ...fields } = event;
    switch (type) {
      case 'sync':
      case 'commit':
      case 'vote':
      case 'aggregate':
        logger.debug({ topology: deployment.topology, ...fields }, type);
        return;
      case 'crash':
      case 'restart':
      case 'agent-stopped':
        // The runtime's own events say it, with the actor's path.
        return;
      default:
        logger.info({ topology: deployment.topology, ...fields }, type);
    }
  });
  return () => {
    runtime();
    own();
  };
}
