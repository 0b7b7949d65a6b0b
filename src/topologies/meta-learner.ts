import { dispatch } from '../actors/ask.js';
import { stateful, type Behaviour } from '../actors/behaviour.js';
import type { ActorRef } from '../actors/ref.js';
import { gaussian } from '../market/gaussian.js';
import type { Direction } from '../market/outcomes.js';
import { createRandom, type Random } from '../random.js';

/** One trade the meta-learner may place: the condition the detector read, each live strategy's call, and what the market did. */
export interface TradeStep {
  readonly condition: string;
  readonly calls: Readonly<Record<string, Direction>>;
  readonly outcome: Direction;
}

export interface Posterior {
  readonly strategy: string;
  /** Beta(α, β): 1 + wins, 1 + losses. */
  readonly alpha: number;
  readonly beta: number;
  /** α ÷ (α + β). */
  readonly mean: number;
}

/** Per condition, the strategy the meta-learner trusts now (greedy on the posterior mean) and the posteriors behind it. */
export interface ConditionChoice {
  readonly condition: string;
  readonly strategy: string | undefined;
  readonly trades: number;
  readonly posteriors: readonly Posterior[];
}

export interface TradesReport {
  /** Steps where the chosen strategy called and the market moved. */
  readonly trades: number;
  readonly correct: number;
  /** Each re-choice, in order, with the strategy it chose. */
  readonly rotations: readonly { readonly condition: string; readonly strategy: string }[];
}

export type MetaLearnerMessage =
  | { readonly type: 'trades'; readonly steps: readonly TradeStep[]; readonly replyTo: ActorRef<TradesReport> }
  /** The greedy table; `available` limits it to the strategies that can answer now. */
  | { readonly type: 'table'; readonly available: readonly string[]; readonly replyTo: ActorRef<readonly ConditionChoice[]> };

export interface MetaLearnerOptions {
  readonly strategies: readonly string[];
  readonly conditions: readonly string[];
  /** Trades of a condition between re-choices of its strategy. */
  readonly rotationInterval: number;
  /** true: Thompson sampling per condition. false: the baseline, every strategy in turn for rotationInterval trades, whatever the condition. */
  readonly learning: boolean;
  readonly seed: number;
  /** Evidence kept per trade of a condition, in (0, 1]; 1 never forgets. Default `DEFAULT_DISCOUNT`. */
  readonly discount?: number;
}

/**
 * Each trade of a condition multiplies every arm's wins and losses in that
 * condition by this before the chosen arm learns: evidence halves over ~70
 * trades. The strategies keep learning, so what they did long ago says less
 * about them now; and an arm that had bad luck early and was left alone drifts
 * back toward Beta(1, 1) and is tried again instead of being shut out for good.
 */
export const DEFAULT_DISCOUNT = 0.99;

interface Arm {
  wins: number;
  losses: number;
}

interface MetaState {
  readonly random: Random;
  readonly arms: Map<string, Map<string, Arm>>;
  readonly chosen: Map<string, string>;
  /** Trades since the last re-choice, per condition (the baseline keeps one count under ''). */
  readonly since: Map<string, number>;
  readonly trades: Map<string, number>;
  /** The baseline's position in its cycle. */
  turn: number;
}

/**
 * The meta-learner: a contextual bandit whose context is the market
 * condition. Each (condition, strategy) arm holds a Beta posterior over the
 * strategy's hit rate in that condition, starting at Beta(1, 1). For each
 * trade it follows the strategy currently chosen for the trade's condition
 * — only that arm learns from the outcome, as in any bandit — and after
 * every `rotationInterval` trades of a condition it re-chooses by Thompson
 * sampling: one draw from each arm's posterior, the highest draw wins. A
 * chosen strategy that is not live (killed) is replaced at once by a draw
 * among the live ones. A flat call is no trade and teaches nothing.
 *
 * Draws come from a stream forked from the deployment's seed, so a run is
 * reproducible. The posteriors live in the actor's state: a restarted
 * meta-learner starts again from Beta(1, 1) and relearns.
 */
export function metaLearner(options: MetaLearnerOptions): Behaviour<MetaLearnerMessage> {
  const { strategies, conditions, rotationInterval, learning } = options;
  return stateful<MetaState, MetaLearnerMessage>({
    initialState: () => ({
      random: createRandom(options.seed).fork('meta-learner'),
      arms: new Map(conditions.map((c) => [c, new Map(strategies.map((s) => [s, { wins: 0, losses: 0 }]))])),
      chosen: new Map(),
      since: new Map(),
      trades: new Map(),
      turn: 0,
    }),
    receive: (state, message) => {
      if (message.type === 'table') {
        dispatch(message.replyTo, table(state, conditions, message.available));
        return state;
      }
      dispatch(message.replyTo, learning ? bandit(state, message.steps, rotationInterval, options.discount ?? DEFAULT_DISCOUNT) : rotate(state, message.steps, strategies, rotationInterval));
      return state;
    },
  });
}

function bandit(state: MetaState, steps: readonly TradeStep[], rotationInterval: number, discount: number): TradesReport {
  const rotations: { condition: string; strategy: string }[] = [];
  let trades = 0;
  let correct = 0;
  for (const step of steps) {
    const arms = state.arms.get(step.condition);
    if (arms === undefined) continue;
    const live = Object.keys(step.calls).filter((s) => arms.has(s));
    if (live.length === 0) continue;
    let strategy = state.chosen.get(step.condition);
    if (strategy === undefined || !live.includes(strategy)) {
      strategy = thompson(arms, live, state.random);
      state.chosen.set(step.condition, strategy);
      state.since.set(step.condition, 0);
      rotations.push({ condition: step.condition, strategy });
    }
    const call = step.calls[strategy] ?? 0;
    if (call === 0 || step.outcome === 0) continue;
    for (const other of arms.values()) {
      other.wins *= discount;
      other.losses *= discount;
    }
    const arm = arms.get(strategy)!;
    const hit = call === step.outcome;
    if (hit) arm.wins++;
    else arm.losses++;
    trades++;
    if (hit) correct++;
    state.trades.set(step.condition, (state.trades.get(step.condition) ?? 0) + 1);
    const since = (state.since.get(step.condition) ?? 0) + 1;
    if (since >= rotationInterval) {
      const next = thompson(arms, live, state.random);
      state.chosen.set(step.condition, next);
      state.since.set(step.condition, 0);
      rotations.push({ condition: step.condition, strategy: next });
    } else {
      state.since.set(step.condition, since);
    }
  }
  return { trades, correct, rotations };
}

/** The baseline: every strategy in a fixed cycle, `rotationInterval` trades each, blind to the condition. */
function rotate(state: MetaState, steps: readonly TradeStep[], strategies: readonly string[], rotationInterval: number): TradesReport {
  const rotations: { condition: string; strategy: string }[] = [];
  let trades = 0;
  let correct = 0;
  for (const step of steps) {
    const strategy = strategies[state.turn % strategies.length]!;
    const call = step.calls[strategy] ?? 0;
    if (call === 0 || step.outcome === 0) continue;
    trades++;
    if (call === step.outcome) correct++;
    state.trades.set(step.condition, (state.trades.get(step.condition) ?? 0) + 1);
    const since = (state.since.get('') ?? 0) + 1;
    if (since >= rotationInterval) {
      state.turn++;
      state.since.set('', 0);
      rotations.push({ condition: '*', strategy: strategies[state.turn % strategies.length]! });
    } else {
      state.since.set('', since);
    }
  }
  return { trades, correct, rotations };
}

function table(state: MetaState, conditions: readonly string[], available: readonly string[]): ConditionChoice[] {
  return conditions.map((condition) => {
    const arms = state.arms.get(condition)!;
    const posteriors = [...arms].map(([strategy, arm]) => {
      const alpha = 1 + arm.wins;
      const beta = 1 + arm.losses;
      return { strategy, alpha, beta, mean: alpha / (alpha + beta) };
    });
    const best = posteriors.filter((p) => available.includes(p.strategy)).reduce<Posterior | undefined>((a, p) => (a === undefined || p.mean > a.mean ? p : a), undefined);
    return { condition, strategy: best?.strategy, trades: state.trades.get(condition) ?? 0, posteriors };
  });
}

/** One draw from each live arm's Beta posterior; the highest wins (ties to the first in order). */
function thompson(arms: ReadonlyMap<string, Arm>, live: readonly string[], random: Random): string {
  let best = live[0]!;
  let top = -1;
  for (const strategy of live) {
    const arm = arms.get(strategy)!;
    const draw = betaSample(1 + arm.wins, 1 + arm.losses, random);
    if (draw > top) {
      top = draw;
      best = strategy;
    }
  }
  return best;
}

/** Beta(a, b) as X ÷ (X + Y) with X ~ Gamma(a), Y ~ Gamma(b). */
export function betaSample(a: number, b: number, random: Random): number {
  const x = gammaSample(a, random);
  const y = gammaSample(b, random);
  return x / (x + y);
}

/** Gamma(shape, 1) by Marsaglia and Tsang (2000); shapes here are ≥ 1. */
function gammaSample(shape: number, random: Random): number {
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number;
    let v: number;
    do {
      x = gaussian(random);
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = 1 - random.next();
    if (Math.log(u) < 0.5 * x * x + d - d * v + d * Math.log(v)) return d * v;
  }
}
