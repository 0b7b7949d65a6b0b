import { describe, expect, expectTypeOf, it } from 'vitest';
import { featureSpace } from '../../src/learning/features.js';
import { volatilityRegimeChange } from '../../src/market/volatility-profile.js';
import { AutoScaleDeployment, DEFAULT_AUTO_SCALE_TUNING, type AutoScaleMetrics } from '../../src/topologies/auto-scale.js';
import { DEFAULT_VIX_LEARNING_RATE, vixLearningRate } from '../../src/topologies/auto-scale-vix.js';
import { parseDeploymentConfig, type AutoScaleConfig } from '../../src/topologies/config.js';
import type { TopologyMetrics } from '../../src/topologies/deployment.js';
import type { DeploymentEvent } from '../../src/topologies/events.js';
import { decideScaling, type ScalingCheck, type ScalingPolicy } from '../../src/topologies/scaler.js';
import { patternsByOrigin, useDeployments } from './support.js';

const deployments = useDeployments();
const market = { evalEpisodes: 4 } as const;

function autoScale(input: Partial<AutoScaleConfig> = {}): AutoScaleConfig {
  return parseDeploymentConfig({ topology: 'auto-scale', ...input }) as AutoScaleConfig;
}

const policy: ScalingPolicy = {
  initialAgents: 2,
  maxAgents: 4,
  newPatterns: 100,
  memoryReduction: 0.3,
  window: 4,
  cooldown: 8,
  distill: DEFAULT_AUTO_SCALE_TUNING.distill,
};
const check = (over: Partial<ScalingCheck>): ScalingCheck => ({ episode: 20, agents: 3, newPatterns: 0, memoryReduction: 0, distilled: 100, vix: Number.NaN, ...over });

describe('auto-scale rule', () => {
  it('scales up when the window’s new patterns reach the trigger, but never past maxAgents', () => {
    expect(decideScaling(policy, check({ newPatterns: 100 }), undefined)).toMatchObject({ direction: 'up', cause: expect.stringContaining('new patterns: 100') });
    expect(decideScaling(policy, check({ newPatterns: 99 }), undefined)).toBeUndefined();
    expect(decideScaling(policy, check({ newPatterns: 500, agents: 4 }), undefined)).toBeUndefined();
  });

  it('scales down when distillation removes the trigger’s share of what was learned, but never below initialAgents', () => {
    expect(decideScaling(policy, check({ memoryReduction: 0.3 }), undefined)).toMatchObject({ direction: 'down', cause: expect.stringContaining('memory reduction') });
    expect(decideScaling(policy, check({ memoryReduction: 0.29 }), undefined)).toBeUndefined();
    expect(decideScaling(policy, check({ memoryReduction: Number.NaN }), undefined)).toBeUndefined();
    expect(decideScaling(policy, check({ memoryReduction: 0.9, agents: 2 }), undefined)).toBeUndefined();
  });

  it('grows rather than shrinks while the agents still find new patterns, and shrinks at maxAgents', () => {
    expect(decideScaling(policy, check({ newPatterns: 200, memoryReduction: 0.5 }), undefined)?.direction).toBe('up');
    expect(decideScaling(policy, check({ newPatterns: 200, memoryReduction: 0.5, agents: 4 }), undefined)?.direction).toBe('down');
  });

  it('with vix triggers (ours), also scales up at or above the up level and down at or below the down level, saying which trigger fired', () => {
    const vix = { ...policy, vixUp: 60, vixDown: 40 };
    expect(decideScaling(vix, check({ vix: 60 }), undefined)).toEqual({ direction: 'up', cause: 'VIX: mean 60.0 over the last 4 episodes ≥ 60.0' });
    expect(decideScaling(vix, check({ vix: 59.9 }), undefined)).toBeUndefined();
    expect(decideScaling(vix, check({ vix: 40 }), undefined)).toEqual({ direction: 'down', cause: 'VIX: mean 40.0 over the last 4 episodes ≤ 40.0' });
    expect(decideScaling(vix, check({ vix: Number.NaN }), undefined)).toBeUndefined();
    // Both up triggers at once: the cause names both, with their figures.
    expect(decideScaling(vix, check({ vix: 75.25, newPatterns: 100 }), undefined)?.cause).toBe('new patterns: 100 in the last 4 episodes ≥ 100; VIX: mean 75.3 over the last 4 episodes ≥ 60.0');
    // Bounds and cooldown hold for them as for the reference triggers.
    expect(decideScaling(vix, check({ vix: 200, agents: 4 }), undefined)).toBeUndefined();
    expect(decideScaling(vix, check({ vix: 10, agents: 2 }), undefined)).toBeUndefined();
    expect(decideScaling(vix, check({ episode: 20, vix: 200 }), 13)).toBeUndefined();
    // Without them, the index is ignored.
    expect(decideScaling(policy, check({ vix: 200 }), undefined)).toBeUndefined();
    expect(decideScaling(policy, check({ vix: 1 }), undefined)).toBeUndefined();
  });

  it('takes no decision within the cooldown of the last one', () => {
    expect(decideScaling(policy, check({ episode: 20, newPatterns: 500 }), 13)).toBeUndefined();
    expect(decideScaling(policy, check({ episode: 21, newPatterns: 500 }), 13)?.direction).toBe('up');
  });
});

describe('vixLearningRate', () => {
  it('follows the index in proportion around the reference, clamped, and never above 0.05', () => {
    expect(vixLearningRate(20)).toBeCloseTo(0.01, 12);
    expect(vixLearningRate(40)).toBeCloseTo(0.02, 12);
    expect(vixLearningRate(1)).toBe(DEFAULT_VIX_LEARNING_RATE.min);
    expect(vixLearningRate(400)).toBe(0.05);
    expect(vixLearningRate(400, { ...DEFAULT_VIX_LEARNING_RATE, max: 0.5 })).toBe(0.05);
    expect(vixLearningRate(Number.NaN)).toBe(DEFAULT_VIX_LEARNING_RATE.base);
  });
});

describe('auto-scale', () => {
  it('reports its own figures under topologyMetrics', () => {
    expectTypeOf<TopologyMetrics['auto-scale']>().toEqualTypeOf<AutoScaleMetrics>();
  });

  it('starts at initialAgents and adds an agent, warm-started with the others’ patterns, when the new-pattern rate passes the trigger', async () => {
    const dataDir = deployments.dir();
    // Measured (seeds 1–3, 4-episode windows): two cold agents create 153–184 patterns in their first window, and
    // three agents that have learned a while 96–130 per window, so 120 tells a cold start from the later pace.
    const config = autoScale({ initialAgents: 2, maxAgents: 3, scaleUpTrigger: { newPatterns: 120 } });
    const deployment = deployments.track(AutoScaleDeployment.create(config, { seed: 1, market, maxEpisodes: 8, dataDir }));
    const scales: DeploymentEvent[] = [];
    deployment.events.on('scale', (event) => scales.push(event));
    const metrics = await deployment.run({ episodes: 8 });
    const { decisions, checks, agentsPerEpisode, peakAgents } = metrics.topologyMetrics;

    expect(checks.map((c) => c.episode)).toEqual([4, 8]);
    expect(checks[0]!.newPatterns).toBeGreaterThanOrEqual(120);
    expect(decisions).toEqual([expect.objectContaining({ episode: 4, direction: 'up', agent: 'agent-3', agents: 3 })]);
    expect(decisions[0]!.cause).toBe(`new patterns: ${checks[0]!.newPatterns} in the last 4 episodes ≥ 120`);
    expect(scales).toEqual([expect.objectContaining({ type: 'scale', direction: 'up', agents: 3, cause: decisions[0]!.cause })]);
    expect(agentsPerEpisode).toEqual([2, 2, 2, 2, 3, 3, 3, 3]);
    expect(peakAgents).toBe(3);
    expect(metrics.agents).toBe(3);
    expect(metrics.perAgent.map((a) => [a.id, a.episodesTrained])).toEqual([
      ['agent-1', 8],
      ['agent-2', 8],
      ['agent-3', 4],
    ]);
    // Warm start: every pattern the first two agents had at episode 4 went into the new agent before it trained.
    expect(decisions[0]!.patterns).toBeGreaterThan(0);
    await deployment.stop();
    const held = await patternsByOrigin(dataDir, 'agent-3');
    expect((held.get('agent-1')?.size ?? 0) + (held.get('agent-2')?.size ?? 0)).toBe(decisions[0]!.patterns);
  });

  it('retires an agent when distillation shows the agents learn the same things, after handing its patterns to the rest', async () => {
    const dataDir = deployments.dir();
    // Measured (seeds 1–3): distilling what three agents learned in a 4-episode window removes 17–23% of it
    // (near-duplicates across agents at cosine ≥ 0.9), so 0.15 reads three agents as redundant here; the cold
    // start scales up first, as above, and the cooldown holds the next decision until episode 12.
    const config = autoScale({ initialAgents: 2, maxAgents: 3, scaleUpTrigger: { newPatterns: 120 }, scaleDownTrigger: { memoryReduction: 0.15 } });
    const deployment = deployments.track(AutoScaleDeployment.create(config, { seed: 1, market, maxEpisodes: 12, dataDir }));
    const metrics = await deployment.run({ episodes: 12 });
    const { decisions, checks } = metrics.topologyMetrics;

    expect(decisions.map((d) => [d.episode, d.direction, d.agent, d.agents])).toEqual([
      [4, 'up', 'agent-3', 3],
      [12, 'down', 'agent-3', 2],
    ]);
    const measured = checks.find((c) => c.episode === 12)!;
    expect(measured.memoryReduction).toBeGreaterThanOrEqual(0.15);
    expect(decisions[1]!.cause).toContain('memory reduction');
    expect(metrics.agents).toBe(2);
    expect(metrics.perAgent.map((a) => a.id)).toEqual(['agent-1', 'agent-2']);
    await deployment.stop();
    // Nothing the retired agent learned is lost: the remaining agents hold every pattern it originated.
    const own = (await patternsByOrigin(dataDir, 'agent-3')).get('agent-3')!;
    expect(own.size).toBeGreaterThan(0);
    for (const agent of ['agent-1', 'agent-2']) {
      const held = (await patternsByOrigin(dataDir, agent)).get('agent-3') ?? new Set<string>();
      expect([...own].filter((id) => !held.has(id))).toEqual([]);
    }
  });

  it('on a market whose volatility regime changes: raises learning rates in the turbulence, and scales within bounds without thrashing — but as it would without the turbulence', async () => {
    const calmEpisodes = 8;
    const turbulentEpisodes = 8;
    const episodes = 2 * calmEpisodes + turbulentEpisodes;
    // Thresholds as measured above: 120 new patterns per window, 15% of a window's patterns redundant.
    const config = autoScale({ initialAgents: 2, maxAgents: 4, scaleUpTrigger: { newPatterns: 120 }, scaleDownTrigger: { memoryReduction: 0.15 } });
    const run = async (turbulentScale: number) => {
      const { volatilityProfile } = volatilityRegimeChange({ calmBars: calmEpisodes * 64, turbulentBars: turbulentEpisodes * 64, turbulentScale });
      const deployment = deployments.track(AutoScaleDeployment.create(config, { seed: 3, market: { ...market, volatilityProfile }, maxEpisodes: episodes }));
      return deployment.run({ episodes });
    };
    const metrics = await run(3);
    const { decisions, checks, agentsPerEpisode, learningRates, maxLearningRate } = metrics.topologyMetrics;
    const turbulent = (episode: number) => episode > calmEpisodes && episode <= calmEpisodes + turbulentEpisodes;

    // Learning rates follow the index: each is read from the episode before, so the stretch shows from its second episode.
    expect(maxLearningRate).toBeLessThanOrEqual(0.05);
    const rates = Object.values(learningRates).flat();
    const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const calmRate = mean(rates.filter((r) => r.episode > 1 && !turbulent(r.episode) && !turbulent(r.episode - 1)).map((r) => r.learningRate));
    const turbulentRate = mean(rates.filter((r) => turbulent(r.episode) && turbulent(r.episode - 1)).map((r) => r.learningRate));
    expect(turbulentRate).toBeGreaterThan(1.5 * calmRate);

    // Scaling: within bounds, each decision the one its window's measurements called for, none within the cooldown
    // of the one before (so no up-down-up either).
    expect(decisions.length).toBeGreaterThan(0);
    expect(Math.max(...agentsPerEpisode)).toBeLessThanOrEqual(4);
    expect(Math.min(...agentsPerEpisode)).toBeGreaterThanOrEqual(2);
    for (const decision of decisions) {
      const measured = checks.find((c) => c.episode === decision.episode)!;
      if (decision.direction === 'up') expect(measured.newPatterns).toBeGreaterThanOrEqual(120);
      else expect(measured.memoryReduction).toBeGreaterThanOrEqual(0.15);
    }
    decisions.slice(1).forEach((decision, i) => expect(decision.episode - decisions[i]!.episode).toBeGreaterThanOrEqual(DEFAULT_AUTO_SCALE_TUNING.cooldown));
    expect(metrics.accuracy).toBeGreaterThan(0.75);
    expect(metrics.accuracy).toBeLessThan(metrics.oracleAccuracy + 0.05);

    // What the triggers cannot see: the features are scaled by realized volatility, so a 3× market looks to the
    // learners like a 1× one, and they create patterns at the same pace. The same market with no turbulence is
    // scaled in the same way — this seed happens to scale up mid-stretch and down after it, but not because of it.
    const calm = await run(1);
    const summary = (d: (typeof decisions)[number]) => [d.episode, d.direction, d.agent, d.agents];
    expect(calm.topologyMetrics.decisions.map(summary)).toEqual(decisions.map(summary));
  });

  it('with vix triggers (ours), on a calm–turbulent–calm market: scales up in the turbulence and back down after, within bounds and without thrashing', async () => {
    const calmEpisodes = 8;
    const turbulentEpisodes = 8;
    const episodes = 2 * calmEpisodes + turbulentEpisodes;
    // Measured first (seeds 1–6, agents 1–4, 4-episode windows, on this market): each agent's stream is one of three
    // instruments and the index's level is the instrument's. Calm windows read GAMMA 15–33, ALPHA 22–50, BETA 29–60
    // (the higher ones the window the turbulence starts in, or the one after it, as the 21-bar index lags); turbulent
    // windows read GAMMA 42–74, ALPHA 68–110, BETA 99–185. The swarm's mean on seeds 1–3, two agents, windows wholly
    // calm: 19.6–55.3 (the top, seed 1's first window after the turbulence, as the index lags); windows in the
    // turbulence: 50.2–179.4. Up at 60 sits above every calm swarm mean measured and below the turbulent mean of any swarm
    // with an ALPHA or BETA stream; down at 40 sits 20 below it (a band, so noise about one level cannot flip the swarm
    // up and down) and above the calm mean of any swarm with a GAMMA or ALPHA stream. The levels are absolute, so they
    // cannot fit every mix of instruments: seed 2's swarm holds two GAMMA streams, whose turbulence (50.2, 50.3) stays
    // below 60, and it is asserted as such — it takes no decision. (A BETA-only swarm, calm at 41–48, would not scale
    // down either.) The reference triggers are put out of reach so that every decision here is the index's.
    const config = autoScale({
      initialAgents: 2,
      maxAgents: 4,
      scaleUpTrigger: { newPatterns: 1_000_000, vix: 60 },
      scaleDownTrigger: { memoryReduction: 0.99, vix: 40 },
    });
    const run = async (seed: number, turbulentScale: number) => {
      const { volatilityProfile } = volatilityRegimeChange({ calmBars: calmEpisodes * 64, turbulentBars: turbulentEpisodes * 64, turbulentScale });
      const deployment = deployments.track(AutoScaleDeployment.create(config, { seed, market: { ...market, volatilityProfile }, maxEpisodes: episodes }));
      return deployment.run({ episodes });
    };
    // Episode e trains on bars lookback−1 + (e−1)·64 onwards; the turbulence is bars 512–1023 of every stream.
    const firstBar = (episode: number) => featureSpace().lookback - 1 + (episode - 1) * 64;
    const windowSeesTurbulence = (end: number) => firstBar(end - 3) < (calmEpisodes + turbulentEpisodes) * 64 && firstBar(end) + 64 > calmEpisodes * 64;
    const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

    for (const seed of [1, 2, 3]) {
      const metrics = await run(seed, 3);
      const { decisions, checks, agentsPerEpisode, vixPerEpisode } = metrics.topologyMetrics;

      // Each window's index is the mean of its own episodes' readings, every one of bars already trained on.
      for (const c of checks) expect(c.vix).toBeCloseTo(mean(vixPerEpisode.slice(c.episode - 4, c.episode).filter(Number.isFinite)), 9);
      // Within bounds; each decision the index's, with its figures; up only in a window that saw turbulence, down only
      // in one after it; none within the cooldown of the one before (so no up-down-up either).
      expect(Math.max(...agentsPerEpisode)).toBeLessThanOrEqual(4);
      expect(Math.min(...agentsPerEpisode)).toBeGreaterThanOrEqual(2);
      for (const decision of decisions) {
        const measured = checks.find((c) => c.episode === decision.episode)!;
        if (decision.direction === 'up') {
          expect(windowSeesTurbulence(decision.episode)).toBe(true);
          expect(measured.vix).toBeGreaterThanOrEqual(60);
          expect(decision.cause).toBe(`VIX: mean ${measured.vix.toFixed(1)} over the last 4 episodes ≥ 60.0`);
        } else {
          expect(decision.episode - 3).toBeGreaterThan(calmEpisodes + turbulentEpisodes);
          expect(measured.vix).toBeLessThanOrEqual(40);
          expect(decision.cause).toBe(`VIX: mean ${measured.vix.toFixed(1)} over the last 4 episodes ≤ 40.0`);
        }
      }
      decisions.slice(1).forEach((decision, i) => expect(decision.episode - decisions[i]!.episode).toBeGreaterThanOrEqual(DEFAULT_AUTO_SCALE_TUNING.cooldown));
      expect(metrics.accuracy).toBeGreaterThan(0.75);

      if (seed === 2) {
        // Two GAMMA streams: 3× their calm level stays under the up threshold, so the swarm keeps its size.
        expect(decisions).toEqual([]);
        expect(Math.max(...checks.map((c) => c.vix))).toBeLessThan(60);
        continue;
      }
      // Up in the turbulence, back down once calm.
      expect(decisions.map((d) => d.direction)).toEqual(['up', 'down']);
      expect(metrics.agents).toBe(2);

      // And it is the turbulence that does it: the same seed with no turbulence takes no decision.
      const calm = await run(seed, 1);
      expect(calm.topologyMetrics.decisions).toEqual([]);
      expect(Math.max(...calm.topologyMetrics.checks.map((c) => c.vix))).toBeLessThan(60);
    }
  });

  it('keeps training, adapting and scaling while an agent is killed, and configures it again once it is restarted', async () => {
    const config = autoScale({ initialAgents: 2, maxAgents: 3, scaleUpTrigger: { newPatterns: 120 } });
    const deployment = deployments.track(
      AutoScaleDeployment.create(config, {
        seed: 1,
        market,
        maxEpisodes: 8,
        // Slow enough a restart that the agent misses at least a round.
        agentSupervision: { backoff: { minMs: 1_000, maxMs: 1_000, jitter: 0 } },
      }),
    );
    const restarted = new Promise<void>((resolve) => deployment.events.on('restart', () => resolve()));
    deployment.inject({ seed: 1, steps: [{ at: { afterMessages: 4, path: '/auto-scale/agent-2' }, kill: '/auto-scale/agent-2' }] });
    await deployment.run({ episodes: 4 });
    await restarted;
    const metrics = await deployment.run({ episodes: 4 });
    const { decisions, learningRates } = metrics.topologyMetrics;

    expect(metrics.crashes).toBe(1);
    expect(metrics.restarts).toBe(1);
    const agent2 = metrics.perAgent.find((a) => a.id === 'agent-2')!;
    expect(agent2.live).toBe(true);
    expect(agent2.episodesTrained).toBeGreaterThan(0);
    // The restarted incarnation starts from its spawn rate; the deployment sets the adapted one again each episode.
    expect(learningRates['agent-2']!.map((r) => r.episode)).toContain(8);
    expect(learningRates['agent-1']!).toHaveLength(8);
    // Down for some rounds (the others trained on), then back; the scaler's measures cover whoever was live.
    const { agentsPerEpisode, checks } = metrics.topologyMetrics;
    expect(agentsPerEpisode).toContain(1);
    expect(agentsPerEpisode.at(-1)).toBe(decisions.length === 0 ? 2 : 3);
    expect(checks.map((c) => c.episode)).toEqual([4, 8]);
    expect(Math.max(...agentsPerEpisode)).toBeLessThanOrEqual(3);
    expect(metrics.accuracy).toBeGreaterThan(0.75);
  });

  it('keeps its cooldown when the scaler itself is killed and restarted: its window and decisions are journaled', async () => {
    // 90 new patterns: the cold start (174 in the first window) and the next window of three agents (96) both pass it,
    // so only the cooldown stands between the decision at episode 4 and another at episode 8.
    const config = autoScale({ initialAgents: 2, maxAgents: 4, scaleUpTrigger: { newPatterns: 90 } });
    const deployment = deployments.track(AutoScaleDeployment.create(config, { seed: 1, market, maxEpisodes: 8 }));
    const restarts: string[] = [];
    deployment.runtime.events.subscribe((event) => {
      if (event.type === 'restarted') restarts.push(event.path);
    });
    deployment.inject({ seed: 1, steps: [{ at: { afterMessages: 5, path: '/auto-scale/scaler' }, kill: '/auto-scale/scaler' }] });
    const metrics = await deployment.run({ episodes: 8 });
    const { decisions, checks } = metrics.topologyMetrics;

    expect(restarts).toContain('/auto-scale/scaler');
    expect(checks.find((c) => c.episode === 8)?.newPatterns).toBeGreaterThanOrEqual(90);
    expect(decisions.map((d) => [d.episode, d.direction])).toEqual([[4, 'up']]);
  });

  it('keeps every agent at the base rate without vixAdaptation', async () => {
    const deployment = deployments.track(AutoScaleDeployment.create(autoScale({ vixAdaptation: false }), { seed: 2, market, maxEpisodes: 3 }));
    const metrics = await deployment.run({ episodes: 3 });
    const rates = Object.values(metrics.topologyMetrics.learningRates).flat();
    expect(rates).toHaveLength(2 * 3);
    expect(new Set(rates.map((r) => r.learningRate))).toEqual(new Set([DEFAULT_VIX_LEARNING_RATE.base]));
  });
});
