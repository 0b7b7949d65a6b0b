import { describe, expect, it } from 'vitest';
import type { Bar } from '../../src/market/bars.js';
import { oracleAccuracy, oraclePrediction } from '../../src/market/oracle.js';
import { scorePredictions, type Direction } from '../../src/market/outcomes.js';
import { simulateMarket, type SimulatedAsset } from '../../src/market/simulator.js';
import { TASK_A, TASK_B, type MarketTask } from '../../src/market/tasks.js';

/** "The next bar repeats the last one": the observable rule the oracle's calls on task A amount to. */
const followLastMove = (bars: readonly Bar[]) => (i: number) => Math.sign(bars[i]!.close - bars[i - 1]!.close) as Direction;

function assets(task: MarketTask): SimulatedAsset[] {
  return [31, 32, 33].flatMap((seed) => simulateMarket({ seed, length: 4_000, ...task }).assets);
}

const pooled = (reports: { correct: number; decided: number }[]) =>
  reports.reduce((a, r) => a + r.correct, 0) / reports.reduce((a, r) => a + r.decided, 0);

/** How often the oracle's call equals "repeat the last move", over bars where both make a call. */
function agreement(asset: SimulatedAsset): { correct: number; decided: number } {
  const follow = followLastMove(asset.bars);
  let decided = 0;
  let correct = 0;
  for (let i = 1; i < asset.bars.length; i++) {
    const [oracle, rule] = [oraclePrediction(asset.latent[i]!), follow(i)];
    if (oracle === 0 || rule === 0) continue;
    decided++;
    if (oracle === rule) correct++;
  }
  return { decided, correct };
}

describe('task A (momentum) and task B (mean reversion)', () => {
  const a = assets(TASK_A);
  const b = assets(TASK_B);
  const score = (asset: SimulatedAsset) => scorePredictions(asset.bars, { start: 1, end: asset.bars.length }, 1, followLastMove(asset.bars));

  it('gives each task an oracle near 0.9, so both are learnable', () => {
    expect(pooled(a.map((asset) => oracleAccuracy(asset)))).toBeGreaterThan(0.88);
    expect(pooled(b.map((asset) => oracleAccuracy(asset)))).toBeGreaterThan(0.85);
  });

  it("makes A's oracle mostly agree with following the last move, and B's mostly disagree", () => {
    const agreeWithA = a.map(agreement);
    const agreeWithB = b.map(agreement);
    expect(pooled(agreeWithA)).toBeGreaterThan(0.75);
    expect(pooled(agreeWithB)).toBeLessThan(0.35);
  });

  it("does badly on B with the rule that serves A: following the last move wins on A and loses on B", () => {
    const onA = pooled(a.map(score));
    const onB = pooled(b.map(score));
    expect(onA).toBeGreaterThan(0.75);
    expect(onB).toBeLessThan(0.4);
  });
});
