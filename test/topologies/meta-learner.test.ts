import { afterEach, describe, expect, it } from 'vitest';
import { ask } from '../../src/actors/ask.js';
import type { ActorRef } from '../../src/actors/ref.js';
import { createRuntime, type Runtime } from '../../src/actors/runtime.js';
import type { Direction } from '../../src/market/outcomes.js';
import { createRandom } from '../../src/random.js';
import { betaSample, metaLearner, type ConditionChoice, type MetaLearnerOptions, type TradeStep, type TradesReport } from '../../src/topologies/meta-learner.js';

const runtimes: Runtime[] = [];
afterEach(async () => {
  await Promise.all(runtimes.splice(0).map((rt) => rt.stop()));
});

const strategies = ['a', 'b', 'c'];
const conditions = ['up', 'down'];
/** Hit rates: `a` is right in `up`, `c` in `down`, `b` is a coin everywhere. */
const HIT: Record<string, Record<string, number>> = { up: { a: 0.9, b: 0.5, c: 0.2 }, down: { a: 0.2, b: 0.5, c: 0.9 } };

function market(seed: number, n: number): TradeStep[] {
  const random = createRandom(seed);
  return Array.from({ length: n }, (_, i) => {
    const condition = conditions[i % 2]!;
    const outcome: Direction = random.next() < 0.5 ? 1 : -1;
    const calls = Object.fromEntries(strategies.map((s) => [s, (random.next() < HIT[condition]![s]! ? outcome : -outcome) as Direction]));
    return { condition, calls, outcome };
  });
}

function start(options: Partial<MetaLearnerOptions> = {}) {
  const rt = createRuntime({ seed: 1 });
  runtimes.push(rt);
  const ref = rt.spawn(rt.root, metaLearner({ strategies, conditions, rotationInterval: 10, learning: true, seed: 1, ...options }), { name: 'meta' });
  return {
    trades: (steps: readonly TradeStep[]) => ask(ref, (replyTo: ActorRef<TradesReport>) => ({ type: 'trades', steps, replyTo }), 5_000),
    table: (available = strategies) => ask(ref, (replyTo: ActorRef<readonly ConditionChoice[]>) => ({ type: 'table', available, replyTo }), 5_000),
  };
}

describe('meta-learner', () => {
  it('learns by Thompson sampling which strategy to trust in each condition', async () => {
    const meta = start();
    const report = await meta.trades(market(1, 3_000));
    const table = await meta.table();
    expect(table.map((row) => [row.condition, row.strategy])).toEqual([
      ['up', 'a'],
      ['down', 'c'],
    ]);
    // Mostly the right arm, once learned: far above the coin every strategy averages to.
    expect(report.correct / report.trades).toBeGreaterThan(0.8);
    const up = table[0]!.posteriors.find((p) => p.strategy === 'a')!;
    expect(up.mean).toBeGreaterThan(0.8);
  });

  it('re-chooses a condition every rotationInterval trades', async () => {
    const meta = start({ rotationInterval: 25 });
    const report = await meta.trades(market(2, 1_000));
    // A first choice per condition, then one per full interval of that condition's trades.
    expect(report.rotations).toHaveLength(2 + Math.floor(500 / 25) * 2);
  });

  it('replaces a chosen strategy that is not live, and leaves it out of the table', async () => {
    const meta = start();
    await meta.trades(market(3, 1_000));
    const withoutA = market(4, 200).map((step) => ({ ...step, calls: { b: step.calls['b']!, c: step.calls['c']! } }));
    const report = await meta.trades(withoutA);
    expect(report.rotations.some((r) => r.condition === 'up' && r.strategy !== 'a')).toBe(true);
    expect((await meta.table(['b', 'c'])).find((row) => row.condition === 'up')!.strategy).not.toBe('a');
  });

  it('rotates through the strategies blind to the condition as the baseline', async () => {
    const meta = start({ learning: false, rotationInterval: 5 });
    const report = await meta.trades(market(5, 30));
    expect(report.rotations.map((r) => r.strategy)).toEqual(['b', 'c', 'a', 'b', 'c', 'a']);
    expect(report.rotations.every((r) => r.condition === '*')).toBe(true);
  });

  it('draws the same choices from the same seed, and other ones from another', async () => {
    const steps = market(6, 500);
    const rotations = async (seed: number) => (await start({ seed }).trades(steps)).rotations;
    expect(await rotations(7)).toEqual(await rotations(7));
    expect(await rotations(7)).not.toEqual(await rotations(8));
  });
});

describe('betaSample', () => {
  it('draws with the mean and spread of Beta(a, b)', () => {
    const random = createRandom(1);
    const draws = Array.from({ length: 20_000 }, () => betaSample(3, 7, random));
    const mean = draws.reduce((s, x) => s + x, 0) / draws.length;
    const variance = draws.reduce((s, x) => s + (x - mean) ** 2, 0) / draws.length;
    expect(mean).toBeCloseTo(0.3, 2);
    expect(variance).toBeCloseTo((3 * 7) / (10 ** 2 * 11), 3);
    expect(draws.every((x) => x > 0 && x < 1)).toBe(true);
  });
});
