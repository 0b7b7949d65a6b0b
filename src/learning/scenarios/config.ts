import { z } from 'zod';
import { SwarmbankError } from '../../errors.js';
import { PATTERN_NAMES } from '../pattern-names.js';

export const SCENARIOS = ['cold-start', 'warm-start', 'transfer', 'continual', 'forgetting'] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

/** A scenario config that is not an object of known keys with values in range; `key` names the first offence. */
export class ScenarioConfigError extends SwarmbankError {
  constructor(
    readonly scenario: string,
    readonly key: string,
    message: string,
  ) {
    super('SCENARIO_CONFIG', key === '' ? `${scenario}: ${message}` : `${scenario} config key ${key}: ${message}`);
  }
}

/**
 * The reference's learning rates go up to 0.02 and it warns against more than
 * 0.05; anything in (0, 1] is a valid step for the learner, so the warning is
 * the doctor's business, not a config error.
 */
const learningRate = z.number().gt(0).lte(1);
const accuracyTarget = z.number().gt(0).lte(1);
const episodes = z.number().int().min(1).max(100_000);

/**
 * Keys shared by every scenario on top of its reference keys: how long an
 * episode is, how many held-out episodes each evaluation scores, and the
 * rolling window that decides convergence.
 */
const common = {
  episodeLength: z.number().int().min(8).max(4_096).default(64),
  evalEpisodes: z.number().int().min(1).max(1_000).default(8),
  convergenceWindow: z.number().int().min(1).max(1_000).default(5),
};

export const coldStartSchema = z.strictObject({
  learningRate: learningRate.default(0.02),
  convergenceTarget: accuracyTarget.default(0.7),
  /** Training episodes, each followed by an evaluation: the length of the learning curve. */
  warmupEpisodes: episodes.default(100),
  ...common,
});

/** Refuses a list of names that holds one twice, at the repeat's index: for lists whose entries each stand for one thing. */
export function refuseRepeats(names: readonly string[], context: z.RefinementCtx): void {
  names.forEach((name, index) => {
    const first = names.indexOf(name);
    if (first !== index) context.addIssue({ code: 'custom', path: [index], message: `repeats ${JSON.stringify(name)} (index ${first}); each may appear once` });
  });
}

export const warmStartSchema = z.strictObject({
  learningRate: learningRate.default(0.01),
  /**
   * Names of the patterns to preload from the pattern library (see
   * `PATTERN_NAMES`). Default: the two the reference names, `bullish_reversal`
   * and `support_level`, and their bearish mirrors.
   */
  preloadPatterns: z
    .array(z.enum(PATTERN_NAMES))
    .min(1)
    // Patterns are selected by these names, so a repeat would be echoed in the config and reports yet change nothing.
    .superRefine(refuseRepeats)
    .default(['bullish_reversal', 'support_level', 'bearish_reversal', 'resistance_level']),
  convergenceTarget: accuracyTarget.default(0.7),
  warmupEpisodes: episodes.default(50),
  /** Episodes the library agent trains on its own market before its patterns are offered. */
  libraryEpisodes: episodes.default(50),
  /** Learning rate of the cold agent the warm one is compared with: the cold-start scenario's. */
  baselineLearningRate: learningRate.default(0.02),
  ...common,
});

/** The agent every head-start scenario trains beside its own (see `againstCold`): no configured agent may share its memory. */
export const COLD_AGENT = 'cold';

/**
 * An agent's name is the directory of its memory inside the run's, so it
 * must be a single plain path segment: no separator, not `.` or `..`, no
 * hidden name. Names are compared case-blind because on a case-insensitive
 * file system `Cold` and `cold` are one directory.
 */
const agentName = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.~-]{0,63}$/, 'must be 1 to 64 letters, digits and _.~- starting with a letter or digit')
  .refine((name) => name.toLowerCase() !== COLD_AGENT, 'is reserved for the cold baseline agent');

export const transferSchema = z
  .strictObject({
    sourceAgent: agentName.default('experienced-agent'),
    targetAgent: agentName.default('new-agent'),
    transferMethod: z.enum(['full', 'selective']).default('full'),
    continueTraining: episodes.default(30),
    sourceEpisodes: episodes.default(50),
    /** `selective` takes the source's patterns at least this confident. */
    minConfidence: z.number().gte(0).lte(1).default(0.6),
    learningRate: learningRate.default(0.02),
    convergenceTarget: accuracyTarget.default(0.7),
    ...common,
  })
  .superRefine((config, context) => {
    if (config.sourceAgent.toLowerCase() === config.targetAgent.toLowerCase()) {
      context.addIssue({ code: 'custom', path: ['targetAgent'], message: 'must differ from sourceAgent: an agent importing its own patterns transfers nothing' });
    }
  });

export const continualSchema = z.strictObject({
  learningRate: learningRate.default(0.005),
  onlineLearning: z.boolean().default(true),
  /** Trading days. */
  tradingPeriod: z.number().int().min(1).max(10_000).default(30),
  /** Decisions per day: one per bar, so a day is this many bars. */
  tradesPerDay: z.number().int().min(1).max(1_000).default(10),
  /** Episodes of earlier history the agent trains on before it trades. */
  pretrainEpisodes: z.number().int().min(0).max(100_000).default(10),
  /** Cost per unit of exposure changed, in basis points. */
  costBps: z.number().gte(0).lte(10_000).default(1),
  ...common,
});

export const forgettingSchema = z.strictObject({
  /** Distil the memory every this many training episodes. */
  distillationInterval: episodes.default(100),
  memoryConsolidation: z.boolean().default(true),
  retentionTarget: z.number().gt(0).lte(1).default(0.8),
  /**
   * Task B after task A (momentum): `mean-reversion` is TASK_B, a market of
   * long ranges; `inverted` is a fresh task-A market whose outcomes are
   * scored and taught reversed, so B contradicts A on the very same inputs.
   */
  taskB: z.enum(['mean-reversion', 'inverted']).default('mean-reversion'),
  /** Training episodes on task A, then as many on task B. */
  taskEpisodes: episodes.default(200),
  learningRate: learningRate.default(0.02),
  /** Share of task A's patterns, by utility, consolidated before task B. */
  consolidateFraction: z.number().gt(0).lte(1).default(0.5),
  /** Near-duplicate threshold of distillation (cosine). */
  distillSimilarity: z.number().gt(0).lte(1).default(0.97),
  /** Distillation prunes unconsolidated patterns with less support than this. */
  distillMinSupport: z.number().int().min(0).default(2),
  ...common,
});

export type ColdStartConfig = z.infer<typeof coldStartSchema>;
export type WarmStartConfig = z.infer<typeof warmStartSchema>;
export type TransferConfig = z.infer<typeof transferSchema>;
export type ContinualConfig = z.infer<typeof continualSchema>;
export type ForgettingConfig = z.infer<typeof forgettingSchema>;

export type ColdStartInput = z.input<typeof coldStartSchema>;
export type WarmStartInput = z.input<typeof warmStartSchema>;
export type TransferInput = z.input<typeof transferSchema>;
export type ContinualInput = z.input<typeof continualSchema>;
export type ForgettingInput = z.input<typeof forgettingSchema>;

export interface ScenarioConfigs {
  readonly 'cold-start': ColdStartConfig;
  readonly 'warm-start': WarmStartConfig;
  readonly transfer: TransferConfig;
  readonly continual: ContinualConfig;
  readonly forgetting: ForgettingConfig;
}

export interface ScenarioInputs {
  readonly 'cold-start': ColdStartInput;
  readonly 'warm-start': WarmStartInput;
  readonly transfer: TransferInput;
  readonly continual: ContinualInput;
  readonly forgetting: ForgettingInput;
}

const SCHEMAS = {
  'cold-start': coldStartSchema,
  'warm-start': warmStartSchema,
  transfer: transferSchema,
  continual: continualSchema,
  forgetting: forgettingSchema,
} as const;

/** The key each scenario counts its training in: what `--episodes` sets. */
export const EPISODES_KEY = {
  'cold-start': 'warmupEpisodes',
  'warm-start': 'warmupEpisodes',
  transfer: 'continueTraining',
  continual: 'tradingPeriod',
  forgetting: 'taskEpisodes',
} as const satisfies { readonly [N in ScenarioName]: keyof ScenarioConfigs[N] };

export function isScenarioName(name: string): name is ScenarioName {
  return (SCENARIOS as readonly string[]).includes(name);
}

/** Validates a config as a user wrote it and fills in the defaults. */
export function parseScenarioConfig<N extends ScenarioName>(name: N, config: unknown): ScenarioConfigs[N] {
  if (!isScenarioName(name)) throw new ScenarioConfigError(String(name), '', `unknown scenario; expected one of ${SCENARIOS.join(', ')}`);
  const result = SCHEMAS[name].safeParse(config ?? {});
  if (result.success) return result.data as ScenarioConfigs[N];
  const issue = result.error.issues[0]!;
  if (issue.code === 'unrecognized_keys') {
    const known = Object.keys(SCHEMAS[name].shape).join(', ');
    throw new ScenarioConfigError(name, [...issue.path, issue.keys[0]].join('.'), `is not a ${name} key; known keys: ${known}`);
  }
  if (issue.path.length === 0) throw new ScenarioConfigError(name, '', `config must be an object (${issue.message})`);
  throw new ScenarioConfigError(name, issue.path.join('.'), issue.message);
}
