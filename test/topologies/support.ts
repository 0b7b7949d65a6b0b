import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach } from 'vitest';
import { featureSpace } from '../../src/learning/features.js';
import { openPatternMemory } from '../../src/memory/store.js';
import type { Deployment } from '../../src/topologies/deployment.js';

/** Deployments stopped and data directories removed after each test, whatever the test did. */
export function useDeployments() {
  const deployments: Deployment[] = [];
  const dirs: string[] = [];
  afterEach(async () => {
    await Promise.all(deployments.splice(0).map((d) => d.stop()));
    for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
  });
  return {
    track<D extends Deployment>(deployment: D): D {
      deployments.push(deployment);
      return deployment;
    },
    dir(): string {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'swarmbank-topology-'));
      dirs.push(dir);
      return dir;
    },
  };
}

/** Pattern ids by origin in an agent's memory, read from disk after its deployment stopped. */
export async function patternsByOrigin(dataDir: string, agent: string): Promise<Map<string, Set<string>>> {
  const space = featureSpace();
  const memory = await openPatternMemory({ path: path.join(dataDir, 'agents', agent), dimensions: space.dimensions, featureSpaceId: space.id });
  try {
    const byOrigin = new Map<string, Set<string>>();
    for (const pattern of memory.iterate()) {
      const ids = byOrigin.get(pattern.origin) ?? new Set<string>();
      ids.add(pattern.id);
      byOrigin.set(pattern.origin, ids);
    }
    return byOrigin;
  } finally {
    await memory.close();
  }
}
