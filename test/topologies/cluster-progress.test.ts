import { afterEach, describe, expect, it } from 'vitest';
import { dispatch } from '../../src/actors/ask.js';
import { createRuntime, type Runtime } from '../../src/actors/runtime.js';
import { createInMemoryPersistence } from '../../src/persistence.js';
import { clusterProgress, readProgress } from '../../src/topologies/cluster-progress.js';

const runtimes: Runtime[] = [];
afterEach(async () => {
  await Promise.all(runtimes.splice(0).map((r) => r.stop()));
});

describe('cluster progress', () => {
  it('journals episodes and marks, each only moving forward, and recovers them', async () => {
    const persistence = createInMemoryPersistence();
    const first = createRuntime({ persistence });
    runtimes.push(first);
    const progress = first.spawn(first.root, clusterProgress('p'), { name: 'progress' });
    dispatch(progress, { type: 'trained', episode: 3 });
    dispatch(progress, { type: 'trained', episode: 2 });
    dispatch(progress, { type: 'marks', marks: { w1: 10, w2: 4 } });
    dispatch(progress, { type: 'marks', marks: { w1: 7, w3: 1 } });
    expect(await readProgress(progress, 2_000)).toEqual({ episodes: 3, marks: { w1: 10, w2: 4, w3: 1 } });
    await first.stop();

    const second = createRuntime({ persistence });
    runtimes.push(second);
    const recovered = second.spawn(second.root, clusterProgress('p'), { name: 'progress' });
    expect(await readProgress(recovered, 2_000)).toEqual({ episodes: 3, marks: { w1: 10, w2: 4, w3: 1 } });
  });

  it('reads a snapshot from before marks were kept, which held the episode count alone', async () => {
    const persistence = createInMemoryPersistence();
    await persistence.takeSnapshot({ key: 'old', sequenceNumber: 120, data: 120, createdAt: 0 });
    const runtime = createRuntime({ persistence });
    runtimes.push(runtime);
    const progress = runtime.spawn(runtime.root, clusterProgress('old'), { name: 'progress' });
    expect(await readProgress(progress, 2_000)).toEqual({ episodes: 120, marks: {} });
    dispatch(progress, { type: 'trained', episode: 121 });
    expect((await readProgress(progress, 2_000)).episodes).toBe(121);
  });
});
