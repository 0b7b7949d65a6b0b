import { describe, expect, it } from 'vitest';
import { episodeStarts, featureSeries, runEpisode } from '../../src/learning/episode.js';
import { featureSpace } from '../../src/learning/features.js';
import { PatternLearner } from '../../src/learning/learner.js';
import { exportBundle, importBundle } from '../../src/memory/bundle.js';
import { simulatedAsset, useLearningFixture } from './support.js';

const space = featureSpace();
const fixture = useLearningFixture();

describe('PatternLearner.absorb', () => {
  it('takes in imported patterns so that it predicts as a learner freshly opened over the same memory', async () => {
    const asset = simulatedAsset({ seed: 31, length: 900 });
    const series = featureSeries(asset.bars, space, asset.latent);
    const [a, b, c] = episodeStarts(series);
    const sourceMemory = await fixture.memory(space);
    const source = await PatternLearner.open({ space, memory: sourceMemory, agentId: 'source' });
    await runEpisode(source, series, { start: a!, mode: 'train' });
    await runEpisode(source, series, { start: b!, mode: 'train' });

    const memory = await fixture.memory(space);
    const receiver = await PatternLearner.open({ space, memory, agentId: 'receiver' });
    await runEpisode(receiver, series, { start: c!, mode: 'train' });
    const { imported } = await importBundle(memory, exportBundle(sourceMemory), { mode: 'full' });
    receiver.absorb(imported);

    const fresh = await PatternLearner.open({ space, memory, agentId: 'receiver' });
    expect(receiver.size).toBe(fresh.size);
    expect(receiver.size).toBe(memory.count());
    for (const features of series.features.filter((f) => f !== undefined).slice(0, 200)) expect(receiver.predict(features)).toEqual(fresh.predict(features));
    for (const learner of [source, receiver, fresh]) learner.close();
  });
});
