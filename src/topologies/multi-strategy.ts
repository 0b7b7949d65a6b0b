import { ask } from '../actors/ask.js';
import type { ActorRef } from '../actors/ref.js';
import type { PredictionsReply } from '../agents/messages.js';
import type { FeatureSeries } from '../learning/episode.js';
import type { MarketCondition } from '../learning/features.js';
import type { CurvePoint } from '../learning/scenarios/curve.js';
import type { LatentState } from '../market/latent.js';
import { outcomeDirection, type Direction } from '../market/outcomes.js';
import type { MultiStrategyConfig } from './config.js';
import type { DeployOptions } from './deployment.js';
import { mergeScores, scoreCalls, type Calls, type Score } from './evaluation.js';
import type { EpisodeWindow } from './market-feed.js';
import { metaLearner, type ConditionChoice, type MetaLearnerMessage, type TradeStep, type TradesReport } from './meta-learner.js';
import { conditionDetector, type Conditions, type DetectorMessage } from './multi-strategy-detector.js';
import type { Strategy } from './strategies.js';
import { strategyLearner } from './strategy-learners.js';
import type { AgentHandle } from './swarm.js';
import { Courier } from './courier.js';
import { SwarmDeployment } from './swarm-deployment.js';

/** Episodes between transfers of the trusted strategies' confident patterns to the others. */
export const STRATEGY_TRANSFER_EVERY = 2;
/** What a pattern needs to be exported as confident knowledge of its condition. */
export const STRATEGY_TRANSFER_MIN_CONFIDENCE = 0.7;
export const STRATEGY_TRANSFER_MIN_SUPPORT = 5;
/** The step of each strategy's pattern learner (its rule is fixed; see `StrategyLearner`). */
export const STRATEGY_LEARNING_RATE = 0.02;

/** Accuracy on held-out steps: correct / decided, with the steps behind it. */
export interface ScoreSummary {
  readonly steps: number;
  readonly decided: number;
  readonly accuracy: number;
}

/** For one latent condition of the held-out series: how every strategy did there, and the best of them. */
export interface OracleChoice {
  readonly condition: MarketCondition;
  readonly steps: number;
  readonly strategy: string | undefined;
  readonly accuracy: number;
  readonly byStrategy: Readonly<Record<string, number>>;
}

export interface MultiStrategyMetrics {
  readonly metaLearning: boolean;
  readonly rotationInterval: number;
  readonly strategies: readonly string[];
  /**
   * The learned condition → strategy table: per condition, the strategy the
   * meta-learner trusts (greedy on the posterior mean among live strategies)
   * and its Beta posteriors. Empty for the baseline (metaLearning false),
   * which learns no table.
   */
  readonly table: readonly ConditionChoice[];
  /** The deployment's held-out calls by the condition the detector read. */
  readonly accuracyByCondition: Readonly<Record<string, ScoreSummary>>;
  /** The same calls by the latent condition of each step: row by row against `oracleTable`. */
  readonly accuracyByLatentCondition: Readonly<Record<string, ScoreSummary>>;
  /** Every live strategy alone on every held-out step: what the table has to beat. */
  readonly strategyAccuracy: Readonly<Record<string, number>>;
  /** Every live strategy alone, by the condition the detector read: the table the meta-learner would learn with full information. */
  readonly strategyAccuracyByCondition: Readonly<Record<string, Readonly<Record<string, ScoreSummary>>>>;
  /**
   * The oracle's table: per latent condition of the held-out series
   * (trending-up and -down as trending, volatile in either phase), the
   * strategy that was most accurate there. Knowing the regime, no table of
   * these strategies does better.
   */
  readonly oracleTable: readonly OracleChoice[];
  /** Held-out accuracy of following `oracleTable` with the latent condition of each step. */
  readonly oracleTableAccuracy: number;
  /** Training trades placed by the meta-learner's choices, and how many were right. */
  readonly trades: number;
  readonly tradeAccuracy: number;
  readonly rotations: number;
  readonly transfers: number;
  readonly patternsTransferred: number;
}

/**
 * Multi-strategy with meta-learning. One agent per strategy (momentum, mean
 * reversion, breakout), each an agent actor whose learner is its rule
 * refined by the patterns it learns (`StrategyLearner`); a condition
 * detector actor that reads trending / ranging / volatile from the
 * features; and a meta-learner actor, a Thompson-sampling bandit per
 * condition (`metaLearner`), that learns which strategy to trust in which
 * condition.
 *
 * Every strategy trades the same market. Each round: the detector reads
 * the episode's conditions, every live strategy calls each step with what
 * it knows so far (learning off, so these are out-of-sample trades), the
 * meta-learner places the trades — following, per condition, the strategy
 * it chose, learning from the outcome, re-choosing every `rotationInterval`
 * trades of that condition — and then every strategy trains on the episode.
 *
 * Transfer: every `STRATEGY_TRANSFER_EVERY` episodes, for each condition, the
 * strategy the table trusts there exports its confident patterns of that
 * condition (origin itself, confidence ≥ 0.7, support ≥ 5, pattern
 * condition equal to the row's) and every other live strategy imports
 * them. Patterns record market outcomes in one feature space, so they mean
 * the same to every strategy: the receiver's rule is overruled where the
 * imported knowledge confidently disagrees with it. Bundles are validated
 * on arrival like any import; a pattern is sent again only once it changed.
 *
 * Deciding on held-out steps: the detector's condition picks the table's
 * strategy and that strategy's call stands. With `metaLearning: false` the
 * baseline rotates through the strategies every `rotationInterval` calls,
 * blind to the condition, and nothing is transferred. A strategy that is
 * down is skipped: the table falls back to the best live one, so the
 * deployment keeps deciding while any strategy lives. A condition left out
 * of `marketConditions` has no arms: its steps are not traded, and the
 * deployment stays flat on them.
 *
 * The meta-learner's posteriors live in its state: killed, it restarts
 * from Beta(1, 1) and learns the table again, while the strategies keep
 * their patterns on disk.
 */
export class MultiStrategyDeployment extends SwarmDeployment<'multi-strategy'> {
  private readonly strategies: readonly Strategy[];
  private readonly detector: ActorRef<DetectorMessage>;
  private readonly meta: ActorRef<MetaLearnerMessage>;
  private readonly timeout: number;
  private trades = 0;
  private tradesCorrect = 0;
  private rotations = 0;
  private readonly courier = new Courier(this.swarm, this.events);
  private last: Omit<MultiStrategyMetrics, 'metaLearning' | 'rotationInterval' | 'strategies' | 'trades' | 'tradeAccuracy' | 'rotations' | 'transfers' | 'patternsTransferred'> = {
    table: [],
    accuracyByCondition: {},
    accuracyByLatentCondition: {},
    strategyAccuracy: {},
    strategyAccuracyByCondition: {},
    oracleTable: [],
    oracleTableAccuracy: Number.NaN,
  };

  private constructor(config: MultiStrategyConfig, options: DeployOptions) {
    const strategies = [...new Set(config.strategies)];
    const timeout = options.askTimeoutMs ?? 30_000;
    super('multi-strategy', config, SwarmDeployment.prepare('multi-strategy', options));
    const space = this.swarm.space;
    this.strategies = strategies;
    this.timeout = timeout;
    for (const strategy of strategies) {
      this.swarm.spawn(this.root, {
        id: strategy,
        learningRate: STRATEGY_LEARNING_RATE,
        learner: strategyLearner(strategy, space, strategy, STRATEGY_LEARNING_RATE),
        ...(options.agentSupervision === undefined ? {} : { supervision: options.agentSupervision }),
      });
    }
    this.detector = this.runtime.spawn(this.root, conditionDetector(space), { name: 'detector' });
    this.meta = this.runtime.spawn(
      this.root,
      metaLearner({
        strategies,
        conditions: [...new Set(config.marketConditions)],
        rotationInterval: config.rotationInterval,
        learning: config.metaLearning,
        seed: this.seed,
      }),
      { name: 'meta-learner' },
    );
  }

  static create(config: MultiStrategyConfig, options: DeployOptions = {}): MultiStrategyDeployment {
    return new MultiStrategyDeployment(config, options);
  }

  protected async round(episode: number): Promise<void> {
    const window = this.feed.episode('market', episode);
    const live = this.swarm.live();
    const [conditions, calls] = await Promise.all([this.classify(window), this.callsOf(live, window)]);
    if (conditions !== undefined && calls.size > 0) {
      const report = await this.placeTrades(tradeSteps(window.series, conditions, calls));
      if (report !== undefined) {
        this.trades += report.trades;
        this.tradesCorrect += report.correct;
        this.rotations += report.rotations.length;
        const at = this.runtime.clock.now();
        for (const rotation of report.rotations) this.events.publish({ type: 'rotate', condition: rotation.condition, strategy: rotation.strategy, at });
      }
    }
    await Promise.all(live.map((agent) => this.swarm.train(agent, window, episode)));
    if (this.config.metaLearning && episode % STRATEGY_TRANSFER_EVERY === 0) await this.transfer();
  }

  protected async evaluate(episode: number): Promise<CurvePoint> {
    const live = this.swarm.live();
    const held = await this.swarm.heldOutCalls(live, this.feed);
    for (const [id, score] of this.swarm.scores(held, this.feed)) this.agentAccuracy.set(id, score.accuracy);
    for (const agent of this.swarm.all()) if (!held.calls.has(agent.id)) this.agentAccuracy.set(agent.id, Number.NaN);
    const { series, starts } = this.feed.held;
    const available = this.strategies.filter((s) => held.calls.has(s));
    const table = this.config.metaLearning ? await this.table(available) : [];
    const detected = await Promise.all(starts.map((start) => this.classify({ series, start, length: this.feed.episodeLength })));
    const conditionAt = new Map<number, MarketCondition>();
    for (const d of detected) d?.steps.forEach((step, j) => conditionAt.set(step, d.conditions[j]!));
    const chosen = new Map(table.map((row) => [row.condition, row.strategy]));

    const steps = held.oracle.flatMap((calls, k) => calls.steps.map((step, j) => ({ step, calls: callsAt(held.calls, available, k, j) })));
    const selected: Direction[] = [];
    let turn = 0;
    for (const { step, calls } of steps) {
      const condition = conditionAt.get(step);
      let strategy: string | undefined;
      if (this.config.metaLearning) strategy = condition === undefined ? undefined : chosen.get(condition);
      else strategy = nextLive(this.strategies, available, Math.floor(turn / this.config.rotationInterval));
      const call = strategy === undefined ? 0 : (calls[strategy] ?? 0);
      selected.push(call);
      if (call !== 0) turn++;
    }
    const chosenCalls: Calls = { steps: steps.map((s) => s.step), directions: selected };
    const score = scoreCalls(series, chosenCalls);
    const accuracyByCondition = byGroup(series, chosenCalls, (step) => conditionAt.get(step));
    const accuracyByLatentCondition = byGroup(series, chosenCalls, (step) => latentCondition(series.latent?.[step]));
    const strategyAccuracy = Object.fromEntries(available.map((s) => [s, mergeScores(held.calls.get(s)!.map((c) => scoreCalls(series, c))).accuracy]));
    const strategyAccuracyByCondition = Object.fromEntries(
      available.map((s) => [s, byGroup(series, { steps: chosenCalls.steps, directions: steps.map((x) => x.calls[s] ?? 0) }, (step) => conditionAt.get(step))]),
    );
    const oracle = oracleTable(series, steps, available);
    this.last = { table, accuracyByCondition, accuracyByLatentCondition, strategyAccuracy, strategyAccuracyByCondition, oracleTable: oracle.table, oracleTableAccuracy: oracle.accuracy };

    const oracleScore = mergeScores(held.oracle.map((calls) => scoreCalls(series, calls)));
    const sizes = await Promise.all(live.map((agent) => this.swarm.metricsOf(agent)));
    const patterns = sizes.filter((m) => m !== undefined).map((m) => m!.patterns);
    return {
      episode,
      accuracy: score.accuracy,
      oracleAccuracy: oracleScore.accuracy,
      decidedFraction: steps.length === 0 ? 0 : score.decided / steps.length,
      patterns: patterns.length === 0 ? 0 : Math.max(...patterns),
    };
  }

  protected topologyMetrics(): MultiStrategyMetrics {
    return {
      metaLearning: this.config.metaLearning,
      rotationInterval: this.config.rotationInterval,
      strategies: [...this.strategies],
      ...this.last,
      trades: this.trades,
      tradeAccuracy: this.trades === 0 ? Number.NaN : this.tradesCorrect / this.trades,
      rotations: this.rotations,
      transfers: this.courier.transfers,
      patternsTransferred: this.courier.patterns,
    };
  }

  private async classify(window: EpisodeWindow): Promise<Conditions | undefined> {
    this.swarm.count(1);
    return ask(this.detector, (replyTo: ActorRef<Conditions>) => ({ type: 'classify', ...window, replyTo }), this.timeout).catch(() => undefined);
  }

  private async callsOf(agents: readonly AgentHandle[], window: EpisodeWindow): Promise<Map<string, Map<number, Direction>>> {
    const replies = await Promise.all(
      agents.map(async (agent) => {
        const reply = await this.swarm.request(agent, (replyTo: ActorRef<PredictionsReply>) => ({ type: 'predictions', ...window, replyTo }));
        if (reply?.ok !== true) return undefined;
        return [agent.id, new Map(reply.steps.map((step, j) => [step, reply.directions[j]!]))] as const;
      }),
    );
    return new Map(replies.filter((r) => r !== undefined));
  }

  private async placeTrades(steps: readonly TradeStep[]): Promise<TradesReport | undefined> {
    this.swarm.count(1);
    return ask(this.meta, (replyTo: ActorRef<TradesReport>) => ({ type: 'trades', steps, replyTo }), this.timeout).catch(() => undefined);
  }

  private async table(available: readonly string[]): Promise<readonly ConditionChoice[]> {
    this.swarm.count(1);
    const table = await ask(this.meta, (replyTo: ActorRef<readonly ConditionChoice[]>) => ({ type: 'table', available, replyTo }), this.timeout).catch(() => undefined);
    return table ?? [];
  }

  /** See the class comment: each condition's trusted strategy shares its confident patterns of that condition with the others. */
  private async transfer(): Promise<void> {
    const live = this.swarm.live();
    for (const row of await this.table(live.map((a) => a.id))) {
      const source = live.find((a) => a.id === row.strategy);
      if (source === undefined) continue;
      const patterns = await this.courier.collect(source, { minConfidence: STRATEGY_TRANSFER_MIN_CONFIDENCE });
      if (patterns === undefined) continue;
      const confident = patterns.filter((p) => p.condition === row.condition && p.support >= STRATEGY_TRANSFER_MIN_SUPPORT);
      for (const target of live.filter((a) => a !== source)) await this.courier.deliver(source.id, confident, target);
    }
  }
}

function tradeSteps(series: FeatureSeries, conditions: Conditions, calls: ReadonlyMap<string, ReadonlyMap<number, Direction>>): TradeStep[] {
  return conditions.steps.map((step, j) => ({
    condition: conditions.conditions[j]!,
    calls: Object.fromEntries([...calls].flatMap(([id, byStep]) => (byStep.has(step) ? [[id, byStep.get(step)!]] : []))),
    outcome: outcomeDirection(series.bars, step, 1),
  }));
}

function callsAt(calls: ReadonlyMap<string, readonly Calls[]>, strategies: readonly string[], episode: number, step: number): Record<string, Direction> {
  return Object.fromEntries(strategies.map((s) => [s, calls.get(s)![episode]!.directions[step]!]));
}

/** The baseline's strategy for its `turn`-th block of calls, skipping strategies that are down. */
function nextLive(strategies: readonly string[], available: readonly string[], turn: number): string | undefined {
  for (let k = 0; k < strategies.length; k++) {
    const strategy = strategies[(turn + k) % strategies.length]!;
    if (available.includes(strategy)) return strategy;
  }
  return undefined;
}

/** The regime the simulator was in, as a market condition: trending either way, ranging, or volatile in either phase. */
export function latentCondition(state: LatentState | undefined): MarketCondition | undefined {
  if (state === undefined) return undefined;
  if (state.regime === 'trending-up' || state.regime === 'trending-down') return 'trending';
  return state.regime;
}

function byGroup(series: FeatureSeries, calls: Calls, group: (step: number) => string | undefined): Record<string, ScoreSummary> {
  const groups = new Map<string, { steps: number[]; directions: Direction[] }>();
  calls.steps.forEach((step, j) => {
    const key = group(step);
    if (key === undefined) return;
    const g = groups.get(key) ?? { steps: [], directions: [] };
    g.steps.push(step);
    g.directions.push(calls.directions[j]!);
    groups.set(key, g);
  });
  return Object.fromEntries([...groups].map(([key, g]) => [key, summary(g.steps.length, scoreCalls(series, g))]));
}

function summary(steps: number, score: Score): ScoreSummary {
  return { steps, decided: score.decided, accuracy: score.accuracy };
}

/** Per latent condition, every strategy's accuracy and the best; then the accuracy of following that best step by step. */
function oracleTable(
  series: FeatureSeries,
  steps: readonly { readonly step: number; readonly calls: Readonly<Record<string, Direction>> }[],
  strategies: readonly string[],
): { table: OracleChoice[]; accuracy: number } {
  const conditionOf = (step: number) => latentCondition(series.latent?.[step]);
  const groups = new Map<MarketCondition, typeof steps>();
  for (const s of steps) {
    const condition = conditionOf(s.step);
    if (condition !== undefined) groups.set(condition, [...(groups.get(condition) ?? []), s]);
  }
  const table: OracleChoice[] = [...groups].map(([condition, group]) => {
    const byStrategy = Object.fromEntries(
      strategies.map((strategy) => [strategy, scoreCalls(series, { steps: group.map((s) => s.step), directions: group.map((s) => s.calls[strategy] ?? 0) }).accuracy]),
    );
    const known = strategies.filter((s) => Number.isFinite(byStrategy[s]));
    const best = known.reduce<string | undefined>((a, s) => (a === undefined || byStrategy[s]! > byStrategy[a]! ? s : a), undefined);
    return { condition, steps: group.length, strategy: best, accuracy: best === undefined ? Number.NaN : byStrategy[best]!, byStrategy };
  });
  const best = new Map(table.map((row) => [row.condition, row.strategy]));
  const directions = steps.map((s) => {
    const strategy = best.get(conditionOf(s.step)!);
    return strategy === undefined ? 0 : (s.calls[strategy] ?? 0);
  });
  return { table, accuracy: scoreCalls(series, { steps: steps.map((s) => s.step), directions }).accuracy };
}
