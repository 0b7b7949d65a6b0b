import { describe, expect, it } from 'vitest';
import { FeatureDimensionsError } from '../../src/agents/errors.js';
import { BlueGreenDeployment } from '../../src/topologies/blue-green.js';
import { UnknownVersionError, VERSIONS } from '../../src/topologies/blue-green-versions.js';
import { DeploymentConfigError, parseDeploymentConfig, type BlueGreenConfig } from '../../src/topologies/config.js';
import type { DeploymentEvent, DeploymentEventOf } from '../../src/topologies/events.js';
import type { Decision } from '../../src/topologies/router.js';
import { twoProportionZTest } from '../../src/topologies/significance.js';
import { patternsByOrigin, useDeployments } from './support.js';

const deployments = useDeployments();
const market = { evalEpisodes: 4 } as const;

function blueGreen(input: Record<string, unknown> = {}): BlueGreenConfig {
  return parseDeploymentConfig({ topology: 'blue-green', ...input }) as BlueGreenConfig;
}

/** Held-out feature vectors to send as requests. */
function requests(deployment: BlueGreenDeployment): Float32Array[] {
  return (deployment as unknown as { feed: { held: { series: { features: (Float32Array | undefined)[] } } } }).feed.held.series.features.filter(
    (f): f is Float32Array => f !== undefined,
  );
}

/** Sends requests continuously, a burst per turn of the event loop, until stopped; returns every reply promise in order sent. */
function load(deployment: BlueGreenDeployment, burst = 20) {
  const features = requests(deployment);
  const replies: Promise<Decision | undefined>[] = [];
  let firing = true;
  const done = (async () => {
    while (firing) {
      for (let i = 0; i < burst; i++) replies.push(deployment.decide(features[replies.length % features.length]!));
      await new Promise((resolve) => setImmediate(resolve));
    }
  })();
  return {
    replies,
    sent: () => replies.length,
    async stop() {
      firing = false;
      await done;
      return Promise.all(replies);
    },
  };
}

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 5));
}

describe('blue-green', () => {
  it("runs each group on the learner its version selects, and refuses unknown versions by name", async () => {
    expect(() => BlueGreenDeployment.create(blueGreen({ green: { agents: 2, version: 'v3.7' } }))).toThrow(UnknownVersionError);
    try {
      BlueGreenDeployment.create(blueGreen({ blue: { agents: 1, version: 'v0.1' }, green: { agents: 1, version: 'v3.7' } }));
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(DeploymentConfigError);
      expect((error as UnknownVersionError).unknown).toEqual([
        { key: 'blue.version', version: 'v0.1' },
        { key: 'green.version', version: 'v3.7' },
      ]);
      expect((error as Error).message).toMatch(/v0\.1.*v3\.7/);
    }
    const deployment = deployments.track(BlueGreenDeployment.create(blueGreen({ blue: { agents: 1, version: 'v1.0' }, green: { agents: 3, version: 'v2.0' } }), { market, maxEpisodes: 1 }));
    expect(VERSIONS['v1.0']).toMatchObject({ learningRate: 0.01, k: 7 });
    expect(VERSIONS['v2.0']).toMatchObject({ learningRate: 0.02, k: 11 });
    expect(deployment.liveGroup).toBe('blue');
    await expect(deployment.decide(new Float32Array(3))).rejects.toThrow(FeatureDimensionsError);
    expect(deployment.traffic().sent).toBe(0);
  });

  it('splits held-out decisions between the groups and compares their accuracy with a two-proportion z-test', async () => {
    const deployment = deployments.track(BlueGreenDeployment.create(blueGreen(), { seed: 2, market, maxEpisodes: 3 }));
    const metrics = await deployment.run({ episodes: 3 });
    const { abTest, router, versionConfigs, groupAccuracy } = metrics.topologyMetrics;
    expect(versionConfigs).toEqual({ blue: VERSIONS['v1.0'], green: VERSIONS['v2.0'] });
    expect(abTest).toBeDefined();
    const { blue, green, z, pValue } = abTest!;
    expect(blue.decided).toBeGreaterThan(50);
    expect(green.decided).toBeGreaterThan(50);
    expect(blue.decided + green.decided).toBeLessThanOrEqual(4 * 63);
    const test = twoProportionZTest({ successes: green.correct, trials: green.decided }, { successes: blue.correct, trials: blue.decided });
    expect({ z, pValue }).toEqual({ z: test.z, pValue: test.pValue });
    expect(router!.byGroup.blue).toBeGreaterThan(0);
    expect(router!.byGroup.green).toBeGreaterThan(0);
    expect(groupAccuracy.blue).toBeGreaterThan(0.7);
    expect(groupAccuracy.green).toBeGreaterThan(0.7);
    expect(metrics.accuracy).toBeGreaterThan(0.7);
  });

  it('cuts over by itself when green is significantly better', async () => {
    const deployment = deployments.track(
      BlueGreenDeployment.create(blueGreen({ blue: { agents: 2, version: 'v0.9' }, green: { agents: 2, version: 'v2.0' } }), { seed: 1, market, maxEpisodes: 4 }),
    );
    const cutovers: DeploymentEventOf<'cutover'>[] = [];
    deployment.events.on('cutover', (event) => cutovers.push(event));
    const metrics = await deployment.run({ episodes: 4 });
    expect(cutovers).toHaveLength(1);
    expect(cutovers[0]!.to).toBe('green');
    const { cutovers: records, live, abTest, router } = metrics.topologyMetrics;
    expect(records[0]!.reason).toBe('significant');
    expect(live).toBe('green');
    // After the cutover nothing is split: the last evaluation went to green alone.
    expect(abTest).toBeUndefined();
    expect(router!.splitting).toBe(false);
    expect(metrics.learningCurve.at(-1)!.accuracy).toBeCloseTo(metrics.topologyMetrics.groupAccuracy.green, 10);
  });

  it('cuts over under a steady stream of requests with every request answered exactly once', async () => {
    const deployment = deployments.track(BlueGreenDeployment.create(blueGreen({ abTesting: false }), { seed: 3, market, maxEpisodes: 3 }));
    await deployment.run({ episodes: 1 });
    const stream = load(deployment);
    await until(() => stream.sent() >= 400);
    // Training goes on meanwhile: requests queue behind episodes in the agents' mailboxes.
    const training = deployment.run({ episodes: 1 });
    const before = stream.sent();
    await deployment.cutover();
    const after = stream.sent();
    await until(() => stream.sent() >= after + 400);
    const decisions = await stream.stop();
    await training;

    const traffic = deployment.traffic();
    expect(traffic).toEqual({ sent: decisions.length, answered: decisions.length, dropped: 0, duplicated: 0, late: 0, pending: 0 });
    expect(decisions.every((d) => d !== undefined)).toBe(true);
    expect(new Set(decisions.map((d) => d!.requestId)).size).toBe(decisions.length);
    expect(decisions.slice(0, before).every((d) => d!.group === 'blue')).toBe(true);
    expect(decisions.slice(after).every((d) => d!.group === 'green')).toBe(true);
    expect(decisions.every((d) => !d!.fallback && d!.voters === 2)).toBe(true);
    const metrics = await deployment.metrics();
    expect(metrics.topologyMetrics.router!.inFlight).toBe(0);
    expect(metrics.topologyMetrics.cutovers.map((c) => c.reason)).toEqual(['manual']);
  });

  it('keeps deciding when agents of the live group are killed mid-stream, falling back to blue when green is gone', async () => {
    const deployment = deployments.track(
      BlueGreenDeployment.create(blueGreen({ abTesting: false }), { seed: 4, market, maxEpisodes: 3, agentSupervision: { directive: 'stop' } }),
    );
    await deployment.run({ episodes: 1 });
    await deployment.cutover();
    const stream = load(deployment);
    await until(() => stream.sent() >= 200);
    deployment.inject({ seed: 1, steps: [{ at: { afterMessages: 1, path: '/blue-green/green-1' }, kill: '/blue-green/green-1' }] });
    await until(() => deployment.runtime.lookup('/blue-green/green-1') === undefined);
    const oneLeft = stream.sent();
    await until(() => stream.sent() >= oneLeft + 200);
    const secondKill = stream.sent();
    deployment.inject({ seed: 2, steps: [{ at: { afterMessages: 1, path: '/blue-green/green-2' }, kill: '/blue-green/green-2' }] });
    await until(() => deployment.runtime.lookup('/blue-green/green-2') === undefined);
    const noneLeft = stream.sent();
    await until(() => stream.sent() >= noneLeft + 200);
    const decisions = await stream.stop();

    expect(deployment.traffic()).toMatchObject({ sent: decisions.length, answered: decisions.length, dropped: 0, duplicated: 0 });
    const byId = decisions.map((d) => d!);
    // Requests still queued when the second agent died fall back to blue; before that, green-2 decides alone.
    const oneAgent = byId.slice(oneLeft, secondKill);
    expect(oneAgent.every((d) => (d.group === 'green' && d.voters === 1) || (d.group === 'blue' && d.fallback))).toBe(true);
    expect(oneAgent.filter((d) => d.group === 'green').length).toBeGreaterThan(100);
    expect(byId.slice(noneLeft).every((d) => d.group === 'blue' && d.fallback)).toBe(true);
    const metrics = await deployment.run({ episodes: 1 });
    expect(metrics.crashes).toBe(2);
    expect(metrics.learningCurve.at(-1)!.decidedFraction).toBeGreaterThan(0.5);
    expect(metrics.accuracy).toBeGreaterThan(0.7);
  });

  it('rolls back to blue and keeps what green learned', async () => {
    const run = async (rollbackPreservation: boolean) => {
      const dataDir = deployments.dir();
      const deployment = deployments.track(
        BlueGreenDeployment.create(blueGreen({ abTesting: false, knowledgeTransfer: false, rollbackPreservation }), { seed: 5, market, maxEpisodes: 4, dataDir }),
      );
      const events: DeploymentEvent[] = [];
      deployment.events.subscribe((event) => events.push(event));
      await deployment.run({ episodes: 2 });
      await deployment.cutover();
      await deployment.run({ episodes: 1 });
      const { preserved, status } = await deployment.rollback();
      expect(status.live).toBe('blue');
      expect(deployment.liveGroup).toBe('blue');
      const metrics = await deployment.run({ episodes: 1 });
      expect(metrics.topologyMetrics.rollbacks).toEqual([expect.objectContaining({ episode: 3, preserved })]);
      expect(events.filter((e) => e.type === 'cutover' || e.type === 'rollback').map((e) => e.type)).toEqual(['cutover', 'rollback']);
      expect(events.find((e) => e.type === 'rollback')).toMatchObject({ to: 'blue', preserved });
      await deployment.stop();
      const blueMemory = await patternsByOrigin(dataDir, 'blue-1');
      return { preserved, fromGreen: (blueMemory.get('green-1')?.size ?? 0) + (blueMemory.get('green-2')?.size ?? 0) };
    };
    const kept = await run(true);
    expect(kept.preserved).toBeGreaterThan(0);
    expect(kept.fromGreen).toBeGreaterThan(0);
    expect(await run(false)).toEqual({ preserved: 0, fromGreen: 0 });
  });

  it('moves patterns both ways with knowledge transfer', async () => {
    const dataDir = deployments.dir();
    const deployment = deployments.track(BlueGreenDeployment.create(blueGreen({ blue: { agents: 1, version: 'v1.0' }, green: { agents: 1, version: 'v2.0' } }), { seed: 6, market, maxEpisodes: 4, dataDir }));
    const transfers: DeploymentEventOf<'transfer'>[] = [];
    deployment.events.on('transfer', (event) => transfers.push(event));
    const metrics = await deployment.run({ episodes: 4 });
    expect(transfers.some((t) => t.from === 'blue-1' && t.to === 'green-1' && t.patterns > 0)).toBe(true);
    expect(transfers.some((t) => t.from === 'green-1' && t.to === 'blue-1' && t.patterns > 0)).toBe(true);
    expect(metrics.topologyMetrics.patternsTransferred).toBe(transfers.reduce((n, t) => n + t.patterns, 0));
    await deployment.stop();
    expect((await patternsByOrigin(dataDir, 'green-1')).get('blue-1')?.size ?? 0).toBeGreaterThan(0);
    expect((await patternsByOrigin(dataDir, 'blue-1')).get('green-1')?.size ?? 0).toBeGreaterThan(0);
  });

  it('keeps green live when the router restarts after a cutover', async () => {
    const deployment = deployments.track(BlueGreenDeployment.create(blueGreen({ abTesting: false }), { seed: 7, market, maxEpisodes: 2 }));
    await deployment.run({ episodes: 1 });
    await deployment.cutover();
    const restarted = new Promise<void>((resolve) =>
      deployment.runtime.events.subscribe((event) => {
        if (event.type === 'restarted' && 'path' in event && event.path === '/blue-green/router') resolve();
      }),
    );
    deployment.inject({ seed: 1, steps: [{ at: { afterMessages: 1, path: '/blue-green/router' }, kill: '/blue-green/router' }] });
    const features = requests(deployment);
    const first = await deployment.decide(features[0]!);
    await restarted;
    const decisions = await Promise.all(features.slice(1, 50).map((f) => deployment.decide(f)));
    expect(first).toBeDefined();
    expect(decisions.every((d) => d?.group === 'green')).toBe(true);
    expect(deployment.traffic()).toMatchObject({ sent: 50, answered: 50, dropped: 0, duplicated: 0 });
  });

  it('gives the same learning curve and A/B test from the same seed', async () => {
    const run = async () => {
      const deployment = deployments.track(BlueGreenDeployment.create(blueGreen(), { seed: 8, market, maxEpisodes: 2 }));
      const metrics = await deployment.run({ episodes: 2 });
      return { curve: metrics.learningCurve, abTest: metrics.topologyMetrics.abTest };
    };
    expect(await run()).toEqual(await run());
  });
});
