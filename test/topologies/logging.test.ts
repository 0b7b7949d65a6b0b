import { describe, expect, it } from 'vitest';
import type { Logger } from '../../src/actors/logging.js';
import { deploy } from '../../src/topologies/deploy.js';
import { logDeployment } from '../../src/topologies/logging.js';
import { useDeployments } from './support.js';

const deployments = useDeployments();

function recorder() {
  const records: { level: string; fields: Record<string, unknown>; message: string }[] = [];
  const at = (level: string) => (fields: object, message: string) => records.push({ level, fields: fields as Record<string, unknown>, message });
  const logger: Logger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
  return { logger, records };
}

describe('deployment logging', () => {
  it('logs crashes and restarts with the actor path, episodes at info and syncs at debug, and stops when unsubscribed', async () => {
    const deployment = deployments.track(
      deploy({ topology: 'mesh', agentCount: 3 }, { maxEpisodes: 4, market: { evalEpisodes: 2 }, agentSupervision: { backoff: { minMs: 1, maxMs: 1, jitter: 0 } } }),
    );
    const { logger, records } = recorder();
    const stop = logDeployment(deployment, logger);
    deployment.inject({ seed: 1, steps: [{ at: { afterMessages: 2, path: '/mesh/agent-2' }, kill: '/mesh/agent-2' }] });
    await deployment.run({ episodes: 2 });
    stop();
    await deployment.run({ episodes: 1 });

    expect(records.find((r) => r.message === 'actor crashed')).toMatchObject({ level: 'warn', fields: { path: '/mesh/agent-2' } });
    expect(records.find((r) => r.message === 'actor restarted')).toMatchObject({ level: 'info', fields: { path: '/mesh/agent-2', attempt: 1 } });
    expect(records.filter((r) => r.message === 'episode').map((r) => [r.level, r.fields['episode']])).toEqual([
      ['info', 1],
      ['info', 2],
    ]);
    expect(records.some((r) => r.message === 'sync' && r.level === 'debug')).toBe(true);
  });
});
