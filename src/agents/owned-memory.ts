import path from 'node:path';
import { openPatternMemory, type PatternMemory } from '../memory/store.js';
import type { FeatureSpace } from '../learning/features.js';

/** A memory directory an agent opens when it starts and closes when its incarnation ends. */
export interface OwnedMemoryOptions {
  readonly path: string;
  /** The most patterns kept; unbounded when absent. */
  readonly capacity?: number;
}

/**
 * Closes in progress, by absolute directory. An incarnation ends (restart
 * or stop) before the work it was doing has settled, so its memory closes
 * later, and the next incarnation must not open the directory until then:
 * lmdb refuses, or hands back the closing environment.
 */
const closing = new Map<string, Promise<void>>();

/** Resolves once no agent of this process is closing the memory in `directory`: then it may be reopened or removed. */
export function ownedMemoryClosed(directory: string): Promise<void> {
  return closing.get(path.resolve(directory)) ?? Promise.resolve();
}

export async function openOwnedMemory(options: OwnedMemoryOptions, space: FeatureSpace): Promise<PatternMemory> {
  await ownedMemoryClosed(options.path);
  return openPatternMemory({ path: options.path, dimensions: space.dimensions, featureSpaceId: space.id, capacity: options.capacity });
}

/** Records `done` as the close of the memory in `directory`, for the next opener to wait on. */
export function trackClose(directory: string, done: Promise<void>): void {
  const key = path.resolve(directory);
  const tracked = done.finally(() => {
    if (closing.get(key) === tracked) closing.delete(key);
  });
  closing.set(key, tracked);
}
