import { fromStored, pack, unpack } from './codec.js';
import { PatternNotFoundError } from './errors.js';
import type { Pattern, PatternExpectations } from './pattern.js';

/**
 * Everything that ever changes a pattern memory, in the order it happened.
 * Events that write a pattern carry the pattern as written (version and
 * timestamps included) rather than the request that produced it, so
 * replaying them never re-runs learning, merging or eviction decisions and
 * reproduces the records exactly. `at` is the memory's clock when the
 * change was made.
 */
export type JournalEvent =
  | { readonly type: 'upsert'; readonly seq: number; readonly at: number; readonly pattern: Pattern }
  | { readonly type: 'import'; readonly seq: number; readonly at: number; readonly source: string; readonly pattern: Pattern }
  /** `sources` are removed, then `pattern` is written; it may reuse one of their ids. */
  | { readonly type: 'merge'; readonly seq: number; readonly at: number; readonly sources: readonly string[]; readonly pattern: Pattern }
  /** Sets the flag and plasticity, bumps the version and stamps `updatedAt` with `at`, never moving it back. */
  | {
      readonly type: 'consolidate';
      readonly seq: number;
      readonly at: number;
      readonly id: string;
      readonly consolidated: boolean;
      readonly plasticity: number;
    }
  /** Removed by the capacity policy, as opposed to `delete`, which a caller asked for. */
  | { readonly type: 'evict'; readonly seq: number; readonly at: number; readonly id: string }
  | { readonly type: 'delete'; readonly seq: number; readonly at: number; readonly id: string }
  /**
   * Replaces the exemplar buffer (the consolidated patterns kept for
   * rehearsal, see consolidation.ts) with `ids`, in order. The buffer names
   * patterns; one removed later simply drops out of what it yields.
   */
  | { readonly type: 'exemplars'; readonly seq: number; readonly at: number; readonly ids: readonly string[] };

/** An event before the journal gives it a sequence number. */
export type PendingEvent = WithoutSeq<JournalEvent>;

type WithoutSeq<E> = E extends unknown ? Omit<E, 'seq'> : never;

/**
 * One journal record holds every event of one write transaction, keyed by
 * the sequence number of its first event: a batch of a thousand upserts is
 * one record, written once, instead of a thousand. The record is a msgpack
 * array of values: each event's envelope (its type, time and whatever else
 * it carries besides a pattern), followed, for events that write a pattern,
 * by that pattern's record exactly as the patterns database stores it. The
 * pattern is thus encoded once per write, and the journal and the patterns
 * database hold the same bytes for it. journal-record.ts builds the record.
 */
type StoredEnvelope =
  | { readonly type: 'upsert'; readonly at: number }
  | { readonly type: 'import'; readonly at: number; readonly source: string }
  | { readonly type: 'merge'; readonly at: number; readonly sources: readonly string[] }
  | { readonly type: 'consolidate'; readonly at: number; readonly id: string; readonly consolidated: boolean; readonly plasticity: number }
  | { readonly type: 'evict' | 'delete'; readonly at: number; readonly id: string }
  | { readonly type: 'exemplars'; readonly at: number; readonly ids: readonly string[] };

/** Field order is fixed per event type so each type maps to one structure of codec.ts. */
export function encodeEnvelope(event: PendingEvent): Uint8Array {
  return pack(envelopeOf(event));
}

function envelopeOf(event: PendingEvent): StoredEnvelope {
  switch (event.type) {
    case 'upsert':
      return { type: event.type, at: event.at };
    case 'import':
      return { type: event.type, at: event.at, source: event.source };
    case 'merge':
      return { type: event.type, at: event.at, sources: event.sources };
    case 'consolidate':
      return { type: event.type, at: event.at, id: event.id, consolidated: event.consolidated, plasticity: event.plasticity };
    case 'evict':
    case 'delete':
      return { type: event.type, at: event.at, id: event.id };
    case 'exemplars':
      return { type: event.type, at: event.at, ids: event.ids };
  }
}

/** Throws on anything that is not a well-formed record; callers wrap it into `CorruptRecordError`. */
export function decodeRecord(firstSeq: number, record: Uint8Array, expect: PatternExpectations): JournalEvent[] {
  const values = unpack(record);
  if (!Array.isArray(values) || values.length === 0) throw new TypeError('a journal record is not a non-empty array of events');
  const events: JournalEvent[] = [];
  for (let i = 0; i < values.length; i++) {
    const envelope: unknown = values[i];
    const withPattern = typeof envelope === 'object' && envelope !== null && PATTERN_EVENTS.has((envelope as { type?: unknown }).type);
    const pattern: unknown = withPattern ? values[++i] : undefined;
    if (withPattern && i >= values.length) throw new TypeError(`event ${firstSeq + events.length} lacks its pattern`);
    events.push(fromStoredEvent(firstSeq + events.length, envelope, pattern, expect));
  }
  return events;
}

const PATTERN_EVENTS: ReadonlySet<unknown> = new Set(['upsert', 'import', 'merge']);

/** Throws on anything that is not a well-formed event; `pattern` is the decoded record that follows a pattern-writing envelope. */
function fromStoredEvent(seq: number, record: unknown, storedPattern: unknown, expect: PatternExpectations): JournalEvent {
  if (typeof record !== 'object' || record === null) throw new TypeError(`expected an event record, got ${typeof record}`);
  const stored = record as Record<string, unknown>;
  const at = stored['at'];
  if (typeof at !== 'number' || !Number.isFinite(at)) throw new TypeError('event time is not a finite number');
  const type = stored['type'];
  switch (type) {
    case 'upsert':
      return { type, seq, at, pattern: fromStored(storedPattern, expect) };
    case 'import':
      return { type, seq, at, source: requireString(stored['source'], 'source'), pattern: fromStored(storedPattern, expect) };
    case 'merge': {
      const sources = stored['sources'];
      if (!Array.isArray(sources)) throw new TypeError('merge sources are not an array');
      return {
        type,
        seq,
        at,
        sources: sources.map((source) => requireString(source, 'merge source')),
        pattern: fromStored(storedPattern, expect),
      };
    }
    case 'consolidate': {
      const consolidated = stored['consolidated'];
      const plasticity = stored['plasticity'];
      if (typeof consolidated !== 'boolean') throw new TypeError('consolidated flag is not a boolean');
      if (typeof plasticity !== 'number' || !(plasticity >= 0 && plasticity <= 1)) throw new TypeError('plasticity is not within 0..1');
      return { type, seq, at, id: requireString(stored['id'], 'id'), consolidated, plasticity };
    }
    case 'evict':
    case 'delete':
      return { type, seq, at, id: requireString(stored['id'], 'id') };
    case 'exemplars': {
      const ids = stored['ids'];
      if (!Array.isArray(ids)) throw new TypeError('exemplar ids are not an array');
      return { type, seq, at, ids: ids.map((id) => requireString(id, 'exemplar id')) };
    }
    default:
      throw new TypeError(`unknown event type ${String(type)}`);
  }
}

/** Where events are applied: the LMDB databases inside a write transaction, or a map when checking integrity. */
export interface PatternState {
  get(id: string): Pattern | undefined;
  put(pattern: Pattern): void;
  remove(id: string): void;
  /** Replaces the exemplar buffer; every id is stored (applyEvent checks). */
  setExemplars(ids: readonly string[]): void;
}

/**
 * The single definition of what an event does. Live writes and replays both
 * go through it, which is what makes a replayed memory equal the original.
 */
export function applyEvent(state: PatternState, event: PendingEvent): void {
  switch (event.type) {
    case 'upsert':
    case 'import':
      state.put(event.pattern);
      return;
    case 'merge':
      for (const id of event.sources) if (id !== event.pattern.id) removeExisting(state, id);
      state.put(event.pattern);
      return;
    case 'consolidate': {
      const prior = state.get(event.id);
      if (prior === undefined) throw new PatternNotFoundError(event.id);
      state.put({
        ...prior,
        consolidated: event.consolidated,
        plasticity: event.plasticity,
        version: prior.version + 1,
        updatedAt: Math.max(event.at, prior.updatedAt),
      });
      return;
    }
    case 'evict':
    case 'delete':
      removeExisting(state, event.id);
      return;
    case 'exemplars':
      for (const id of event.ids) if (state.get(id) === undefined) throw new PatternNotFoundError(id);
      state.setExemplars(event.ids);
      return;
  }
}

function removeExisting(state: PatternState, id: string): void {
  if (state.get(id) === undefined) throw new PatternNotFoundError(id);
  state.remove(id);
}

function requireString(value: unknown, what: string): string {
  if (typeof value !== 'string') throw new TypeError(`${what} is not a string`);
  return value;
}
