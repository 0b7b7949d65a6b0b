import { dispatch } from '../actors/ask.js';
import { stateful, type ActorContext, type Behaviour } from '../actors/behaviour.js';
import type { ActorRef } from '../actors/ref.js';
import { DEFAULT_EPISODE_LENGTH, runEpisode, type EpisodeMode, type EpisodeResult, type FeatureSeries } from '../learning/episode.js';
import type { FeatureSpace } from '../learning/features.js';
import { PatternLearner, type PatternLearnerOptions } from '../learning/learner.js';
import { decodeBundle, encodeBundle, exportBundle, importBundle } from '../memory/bundle.js';
import { JournalError } from '../memory/errors.js';
import { InvalidOptionError, optionReader } from '../memory/options.js';
import { outcomeDirection, scoredSteps, type Direction } from '../market/outcomes.js';
import { consolidate } from '../memory/consolidation.js';
import { distill, planDistillation } from '../memory/distill.js';
import type { PatternMemory } from '../memory/store.js';
import { AgentOptionsError, FeatureDimensionsError } from './errors.js';
import { Incarnation } from './incarnation.js';
import type {
  AgentMessage,
  AgentMetrics,
  AgentReply,
  ConfigureReply,
  EpisodeReply,
  EpisodeRequest,
  ExportMessage,
  ImportMessage,
  MaintainMessage,
  PredictMessage,
} from './messages.js';
import { trackClose, type OwnedMemoryOptions } from './owned-memory.js';
import type { ScreenOptions } from './recent.js';
import { refusalOf } from './refusals.js';
import { isPatternMemory, type AgentSession, type LearnerFactory, type SessionSettings } from './session.js';

export interface AgentOptions {
  /** The agent's id: the learner's agent id, so the origin and id prefix of the patterns it creates. */
  readonly id: string;
  readonly space: FeatureSpace;
  /**
   * An open memory the caller owns and closes (the agent never does), or a
   * directory the agent opens at each start and closes when the incarnation
   * ends. Either way it must be of `space`.
   */
  readonly memory: PatternMemory | OwnedMemoryOptions;
  /** Tune the default learner, `PatternLearner`; ignored when `learner` is given. */
  readonly learningRate?: PatternLearnerOptions['learningRate'];
  readonly k?: PatternLearnerOptions['k'];
  readonly similarityThreshold?: PatternLearnerOptions['similarityThreshold'];
  readonly minEdge?: PatternLearnerOptions['minEdge'];
  /** Plugs in another learner; it must load what the memory holds and commit what it learns there. */
  readonly learner?: LearnerFactory;
}

/** What this incarnation has done; it starts again from nothing with the next one. */
interface AgentStats {
  readonly episodesTrained: number;
  readonly episodesEvaluated: number;
  readonly refused: number;
  readonly lastTrainAccuracy: number | undefined;
  readonly lastEvalAccuracy: number | undefined;
}

/** The learning rate `configure` set in this incarnation, if any. */
interface Tuning {
  learningRate: number | undefined;
}

/** Settings whose learners take the configured rate: a reload (import, maintain) builds a new learner, which must not fall back to the options'. */
function tuned(settings: SessionSettings, tuning: Tuning): SessionSettings {
  return {
    ...settings,
    learner: async (memory) => {
      const learner = await settings.learner(memory);
      if (tuning.learningRate !== undefined) learner.setLearningRate?.(tuning.learningRate);
      return learner;
    },
  };
}

interface AgentState {
  readonly incarnation: Incarnation;
  readonly stats: AgentStats;
  readonly tuning: Tuning;
}

const NO_WORK: AgentStats = { episodesTrained: 0, episodesEvaluated: 0, refused: 0, lastTrainAccuracy: undefined, lastEvalAccuracy: undefined };

/**
 * A learning agent as an actor: it owns a learner over a pattern memory and
 * handles one request at a time, so training, import and maintenance never
 * interleave on its memory.
 *
 * Durability: each training episode commits its learning once, at its end,
 * in one transaction. A crash loses at most the episode in flight; the next
 * incarnation reloads the learner from the memory before it handles a
 * message. Bad input (see `AgentRefusalCode`) is refused with a reply and
 * changes nothing; any other error fails the actor and goes to its supervisor.
 */
export function agent(options: AgentOptions): Behaviour<AgentMessage> {
  const settings = sessionSettings(options);
  const owned = isPatternMemory(options.memory) ? undefined : options.memory.path;
  return stateful<AgentState, AgentMessage>({
    initialState: () => {
      const tuning: Tuning = { learningRate: undefined };
      return { incarnation: new Incarnation(tuned(settings, tuning)), stats: NO_WORK, tuning };
    },
    receive: async (state, message, ctx) => {
      const stats = await state.incarnation.run((session) => handle(session, state.stats, message, options, ctx, state.tuning));
      return { ...state, stats };
    },
    onStop: (state) => {
      const closed = state.incarnation.end();
      if (owned !== undefined) trackClose(owned, closed);
    },
  });
}

function sessionSettings(options: AgentOptions): SessionSettings {
  const { id, space, memory } = options;
  if (typeof id !== 'string' || id.length === 0) throw new AgentOptionsError('id', 'must be a non-empty string');
  if (isPatternMemory(memory) && (memory.featureSpaceId !== space.id || memory.dimensions !== space.dimensions)) {
    throw new AgentOptionsError(
      'memory',
      `holds ${memory.dimensions}-dimensional patterns of feature space ${memory.featureSpaceId}, the agent's is ${space.dimensions}-dimensional ${space.id}`,
    );
  }
  const learner: LearnerFactory =
    options.learner ??
    ((opened) =>
      PatternLearner.open({
        space,
        memory: opened,
        agentId: id,
        learningRate: options.learningRate,
        k: options.k,
        similarityThreshold: options.similarityThreshold,
        minEdge: options.minEdge,
      }));
  return { space, memory, learner };
}

async function handle(
  session: AgentSession,
  stats: AgentStats,
  message: AgentMessage,
  options: AgentOptions,
  ctx: ActorContext<AgentMessage>,
  tuning: Tuning,
): Promise<AgentStats> {
  switch (message.type) {
    case 'train':
    case 'evaluate': {
      const { type, replyTo, ...request } = message;
      const mode: EpisodeMode = type === 'train' ? 'train' : 'eval';
      const reply: EpisodeReply = await attempt(async () => ({ result: await episode(session, request, mode, options.space) }));
      if (replyTo !== undefined) dispatch(replyTo, reply);
      return reply.ok ? afterEpisode(stats, reply.result) : refused(stats);
    }
    case 'predict':
      return answer(stats, message.replyTo, () => predict(session, message, options.space));
    case 'export':
      return answer(stats, message.replyTo, () => exportFrom(session, message));
    case 'import':
      return answer(stats, message.replyTo, () => importInto(session, message));
    case 'maintain':
      return answer(stats, message.replyTo, () => maintain(session, message));
    case 'changes':
      return answer(stats, message.replyTo, () => changesSince(session, message.since, options.id, message.limit));
    case 'ids':
      return answer(stats, message.replyTo, async () => idsAfter(session.memory, message.after, message.limit));
    case 'predictions': {
      const { type: _type, replyTo, ...request } = message;
      return answer(stats, replyTo, () => predictions(session, request, options.space));
    }
    case 'configure': {
      const reply = session.learner.setLearningRate === undefined ? UNSUPPORTED_RATE : await attempt(async () => configure(session, tuning, message.learningRate));
      dispatch(message.replyTo, reply);
      return reply.ok ? stats : refused(stats);
    }
    case 'metrics':
      dispatch(message.replyTo, metrics(session, stats, options.id, ctx.incarnation));
      return stats;
  }
}

/** Replies with the outcome of `work`, a refusal if it was refused, and counts the refusal. */
async function answer<Success extends object>(stats: AgentStats, replyTo: ActorRef<AgentReply<Success>>, work: () => Promise<Success>): Promise<AgentStats> {
  const reply = await attempt(work);
  dispatch(replyTo, reply);
  return reply.ok ? stats : refused(stats);
}

/** The success of `work`, or the refusal it was refused with; rethrows anything that is not bad input. */
async function attempt<Success extends object>(work: () => Promise<Success>): Promise<AgentReply<Success>> {
  try {
    return { ok: true, ...(await work()) };
  } catch (error) {
    const refusal = refusalOf(error);
    if (refusal === undefined) throw error;
    return refusal;
  }
}

async function episode(session: AgentSession, request: EpisodeRequest, mode: EpisodeMode, space: FeatureSpace): Promise<EpisodeResult> {
  const { series, ...options } = request;
  const end = options.start + (options.length ?? DEFAULT_EPISODE_LENGTH);
  checkWindow(series, options.start, end, space);
  const result = await runEpisode(session.learner, series, { ...options, mode });
  if (mode === 'train') remember(session, series, options.start, end, options.horizon ?? 1, options.invert === true);
  return result;
}

/** Keeps the observations just trained on, as the episode taught them, for screening imports. */
function remember(session: AgentSession, series: FeatureSeries, start: number, end: number, horizon: number, invert: boolean): void {
  for (const i of scoredSteps({ start, end }, series.bars.length, horizon)) {
    const features = series.features[i];
    if (features === undefined) continue;
    const outcome = outcomeDirection(series.bars, i, horizon);
    session.recent.add(features, (invert ? -outcome : outcome) as Direction);
  }
}

/** The window's vectors only: a long series is sent for many episodes, and its other vectors are checked when their turn comes. */
function checkWindow(series: FeatureSeries, start: number, end: number, space: FeatureSpace): void {
  for (let i = Math.max(0, start); i < Math.min(series.features.length, end); i++) {
    const vector = series.features[i];
    if (vector !== undefined && vector.length !== space.dimensions) throw new FeatureDimensionsError(space.dimensions, vector.length, `the feature vector of bar ${i}`);
  }
}

async function predict(session: AgentSession, message: PredictMessage, space: FeatureSpace) {
  const { features } = message;
  if (features.length !== space.dimensions) throw new FeatureDimensionsError(space.dimensions, features.length, 'the feature vector');
  return { prediction: session.learner.predict(features) };
}

async function exportFrom(session: AgentSession, message: ExportMessage) {
  return { bundle: exportBundle(session.memory, message.select === undefined ? {} : { select: message.select }) };
}

async function importInto(session: AgentSession, message: ImportMessage) {
  // Checked before anything is written, so a bad request changes nothing.
  if (message.remove !== undefined && !(Array.isArray(message.remove) && message.remove.every((id) => typeof id === 'string'))) {
    throw new InvalidOptionError('import', 'remove', 'must be an array of pattern ids (strings)');
  }
  const written = await writeBundle(session, message);
  const removed: string[] = [];
  for (const id of message.remove ?? []) if (await session.memory.delete(id)) removed.push(id);
  // The learner cannot forget a pattern in place: it reloads from memory.
  if (removed.length > 0) await session.reload();
  return { ...written, removed };
}

async function writeBundle(session: AgentSession, message: ImportMessage) {
  const options = { mode: message.mode, ...(message.select === undefined ? {} : { select: message.select }) };
  if (message.screen === undefined) {
    const { header, imported, skipped } = await importBundle(session.memory, message.bundle, options);
    await session.absorb(imported);
    return { header, imported: imported.map((pattern) => pattern.id), skipped, screened: [] };
  }
  const screen = readScreen(message.screen);
  const { header, patterns } = decodeBundle(message.bundle, session.memory);
  const screened = patterns.filter((pattern) => session.recent.contradicts(pattern, screen));
  const refused = new Set(screened.map((pattern) => pattern.id));
  const passed = encodeBundle(patterns.filter((pattern) => !refused.has(pattern.id)), session.memory);
  const { imported, skipped } = await importBundle(session.memory, passed, { ...options, source: `bundle:${header.checksum.slice(0, 16)}` });
  await session.absorb(imported);
  return { header, imported: imported.map((pattern) => pattern.id), skipped, screened: [...refused] };
}

function readScreen(screen: ScreenOptions): ScreenOptions {
  const { similarity, minMatches, minAgreement } = screen;
  if (!(similarity > 0 && similarity <= 1)) throw new InvalidOptionError('import', 'screen.similarity', `must be in (0, 1], got ${similarity}`);
  if (!(Number.isSafeInteger(minMatches) && minMatches >= 1)) throw new InvalidOptionError('import', 'screen.minMatches', `must be a positive integer, got ${minMatches}`);
  if (!(minAgreement >= 0 && minAgreement <= 1)) throw new InvalidOptionError('import', 'screen.minAgreement', `must be in [0, 1], got ${minAgreement}`);
  return screen;
}

/**
 * Consolidates, then distils: consolidated patterns lead their clusters and
 * are never pruned, so what carries the knowledge survives distillation.
 * Both sets of options are checked before either writes, so a refusal
 * leaves the memory as it was.
 */
async function maintain(session: AgentSession, message: MaintainMessage) {
  const { memory } = session;
  // Planning over no patterns writes nothing and reads the options as distill will.
  if (message.distill !== undefined) planDistillation([], memory.dimensions, message.distill);
  const consolidated = message.consolidate && (await consolidate(memory, message.consolidate.criterion, message.consolidate.options));
  const distilled = message.distill && (await distill(memory, message.distill));
  if (consolidated !== undefined || distilled !== undefined) await session.reload();
  return { ...(distilled === undefined ? {} : { distilled }), ...(consolidated === undefined ? {} : { consolidated }) };
}

const UNSUPPORTED_RATE: ConfigureReply = { ok: false, error: { code: 'UNSUPPORTED', message: "configure: the agent's learner has no learning rate to change" } };

/** Checked as the learner's option is, but refused as bad input rather than thrown, so the agent carries on. */
async function configure(session: AgentSession, tuning: Tuning, rate: number) {
  const learningRate = optionReader('configure').number('learningRate', rate, 0, 1, true);
  session.learner.setLearningRate?.(learningRate);
  tuning.learningRate = learningRate;
  return { learningRate };
}

function idsAfter(memory: PatternMemory, after: string | undefined, limit: number | undefined) {
  if (after !== undefined && typeof after !== 'string') throw new InvalidOptionError('ids', 'after', `must be a string, got ${typeof after}`);
  if (limit !== undefined && !(Number.isSafeInteger(limit) && limit >= 1)) throw new InvalidOptionError('ids', 'limit', `must be a positive integer, got ${limit}`);
  const ids: string[] = [];
  for (const id of memory.ids(after)) {
    if (ids.length === limit) return { ids, more: true };
    ids.push(id);
  }
  return { ids, more: false };
}

async function changesSince(session: AgentSession, since: number, id: string, limit: number | undefined) {
  if (!Number.isSafeInteger(since) || since < 0) throw new InvalidOptionError('changes', 'since', `must be a non-negative integer, got ${since}`);
  if (limit !== undefined && !(Number.isSafeInteger(limit) && limit >= 1)) throw new InvalidOptionError('changes', 'limit', `must be a positive integer, got ${limit}`);
  const { memory } = session;
  const last = memory.lastSeq();
  const written = await writtenSince(memory, since, last, id, limit ?? Number.POSITIVE_INFINITY);
  if (written === undefined) {
    // The journal no longer reaches back to `since`: everything the agent originated, whatever the limit.
    const patterns = [...memory.iterate()].filter((p) => p.origin === id);
    return { bundle: encodeBundle(patterns, memory), count: patterns.length, seq: last, more: false };
  }
  const patterns = [...written.ids].flatMap((pid) => memory.get(pid) ?? []).filter((p) => p.origin === id);
  return { bundle: encodeBundle(patterns, memory), count: patterns.length, seq: written.seq, more: written.seq < last };
}

/**
 * Ids of the agent's own patterns written by learning or merging in (since, to], stopping once `limit` are
 * found, with the sequence number the ids cover up to; undefined when the journal no longer reaches back that far.
 */
async function writtenSince(memory: PatternMemory, since: number, to: number, origin: string, limit: number): Promise<{ ids: Set<string>; seq: number } | undefined> {
  const ids = new Set<string>();
  if (since >= to) return { ids, seq: to };
  try {
    for await (const event of memory.replay({ from: since + 1, to })) {
      if ((event.type === 'upsert' || event.type === 'merge') && event.pattern.origin === origin) {
        if (ids.size >= limit && !ids.has(event.pattern.id)) return { ids, seq: event.seq - 1 };
        ids.add(event.pattern.id);
      }
    }
    return { ids, seq: to };
  } catch (error) {
    if (error instanceof JournalError && error.code === 'JOURNAL_COMPACTED') return undefined;
    throw error;
  }
}

async function predictions(session: AgentSession, request: EpisodeRequest, space: FeatureSpace) {
  const { series, start } = request;
  const length = request.length ?? DEFAULT_EPISODE_LENGTH;
  checkWindow(series, start, start + length, space);
  const steps: number[] = [];
  const directions: Direction[] = [];
  for (const i of scoredSteps({ start, end: start + length }, series.bars.length, request.horizon ?? 1)) {
    const features = series.features[i];
    if (features === undefined) continue;
    steps.push(i);
    directions.push(session.learner.predict(features).direction);
  }
  return { steps, directions };
}

function metrics(session: AgentSession, stats: AgentStats, id: string, incarnation: number): AgentMetrics {
  const { memory } = session;
  return { id, incarnation, patterns: memory.count(), ...stats, bytesUsed: memory.bytesUsed() };
}

function afterEpisode(stats: AgentStats, result: EpisodeResult): AgentStats {
  return result.mode === 'train'
    ? { ...stats, episodesTrained: stats.episodesTrained + 1, lastTrainAccuracy: result.accuracy }
    : { ...stats, episodesEvaluated: stats.episodesEvaluated + 1, lastEvalAccuracy: result.accuracy };
}

function refused(stats: AgentStats): AgentStats {
  return { ...stats, refused: stats.refused + 1 };
}
