import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach } from 'vitest';
import { ownedMemoryClosed } from '../../src/agents/owned-memory.js';
import type { AgentMessage, EpisodeReply } from '../../src/agents/messages.js';
import { ask, createRuntime, type ActorRef, type Runtime, type RuntimeOptions } from '../../src/index.js';
import { episodeStarts, featureSeries, type FeatureSeries } from '../../src/learning/episode.js';
import type { FeatureSpace } from '../../src/learning/features.js';
import { simulateMarket } from '../../src/market/simulator.js';
import { TASK_A } from '../../src/market/tasks.js';
import { openPatternMemory, type PatternMemory } from '../../src/memory/store.js';

/** Generous: a real clock on a slow machine; an ask resolves as soon as its reply comes. */
export const ASK_MS = 20_000;

/**
 * Runtimes, temp directories and the memories opened in them, all released
 * after each test: runtimes stopped first, so that agents owning a memory
 * have started closing it, then each directory removed once closed.
 */
export function useAgentFixture() {
  const runtimes: Runtime[] = [];
  const memories: PatternMemory[] = [];
  const dirs: string[] = [];
  afterEach(async () => {
    await Promise.all(runtimes.splice(0).map((rt) => rt.stop()));
    await Promise.all(memories.splice(0).map((memory) => memory.close()));
    for (const dir of dirs.splice(0)) {
      await ownedMemoryClosed(dir);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
  return {
    runtime(options: RuntimeOptions = {}): Runtime {
      const rt = createRuntime(options);
      runtimes.push(rt);
      return rt;
    },
    dir(): string {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'swarmbank-agents-'));
      dirs.push(dir);
      return dir;
    },
    async memory(space: FeatureSpace): Promise<PatternMemory> {
      const memory = await openPatternMemory({ path: this.dir(), dimensions: space.dimensions, featureSpaceId: space.id });
      memories.push(memory);
      return memory;
    },
  };
}

/** A momentum market (task A) for one asset at σ = 1% per bar: easy to beat chance on. */
export function easySeries(space: FeatureSpace, seed: number, length: number): FeatureSeries {
  const asset = simulateMarket({ seed, length, ...TASK_A, assets: [{ id: 'ALPHA', initialPrice: 100, volatility: 0.01, baseVolume: 1_000_000 }] }).assets[0]!;
  return featureSeries(asset.bars, space, asset.latent);
}

export function patternIds(memory: PatternMemory): string[] {
  return [...memory.iterate()].map((pattern) => pattern.id);
}

export function train(ref: ActorRef<AgentMessage>, series: FeatureSeries, start: number): Promise<EpisodeReply> {
  return ask(ref, (replyTo: ActorRef<EpisodeReply>) => ({ type: 'train', series, start, replyTo }), ASK_MS);
}

export function evaluate(ref: ActorRef<AgentMessage>, series: FeatureSeries, start: number): Promise<EpisodeReply> {
  return ask(ref, (replyTo: ActorRef<EpisodeReply>) => ({ type: 'evaluate', series, start, replyTo }), ASK_MS);
}

/** Trains on every episode of `series`, one after another, and returns the replies. */
export async function trainAll(ref: ActorRef<AgentMessage>, series: FeatureSeries): Promise<EpisodeReply[]> {
  const replies: EpisodeReply[] = [];
  for (const start of episodeStarts(series)) replies.push(await train(ref, series, start));
  return replies;
}

/** Held-out accuracy over every episode of `series`: correct / decided summed over episodes, and each episode's result. */
export async function evaluateAll(ref: ActorRef<AgentMessage>, series: FeatureSeries) {
  const replies = await Promise.all(episodeStarts(series).map((start) => evaluate(ref, series, start)));
  const results = replies.map((reply) => {
    if (!reply.ok) throw new Error(`evaluation refused: ${reply.error.message}`);
    return reply.result;
  });
  const decided = results.reduce((sum, r) => sum + r.decided, 0);
  const correct = results.reduce((sum, r) => sum + r.correct, 0);
  return { accuracy: correct / decided, decided, results };
}
