import { dispatch } from '../actors/ask.js';
import { persistent, type Behaviour } from '../actors/behaviour.js';
import type { ActorRef } from '../actors/ref.js';
import type { ChangesReply, ImportReply } from '../agents/messages.js';
import { BundleError, decodeBundle, encodeBundle } from '../memory/bundle.js';
import type { Pattern } from '../memory/pattern.js';
import type { ScreenOptions } from '../agents/recent.js';
import type { AgentAddress, AgentRequester } from './swarm.js';


/** What one pull brought from one peer. */
export interface PulledFrom {
  readonly origin: string;
  /** Patterns written into this agent's memory; 0 when the peer had nothing new. */
  readonly patterns: number;
  /**
   * Patterns refused: all the bundle carried when validation refused it (a
   * bundle is refused whole, at its first bad pattern), or those screening
   * against the receiver's recent data refused.
   */
  readonly refused: number;
  readonly bytes: number;
  /** The runtime clock when they were in this agent's memory, or when the peer was found to have nothing new. */
  readonly at: number;
  /** False when the peer or this agent went down or did not answer in time; the high-water mark stays where it was. */
  readonly reached: boolean;
}

/**
 * Changes an origin sent along with its commit notice: what it originated
 * in (from, seq] of its journal. A replicator whose mark for the origin lies
 * in [from, seq] takes them instead of asking; any other fetches as usual.
 */
export interface OfferedChanges {
  readonly from: number;
  readonly seq: number;
  readonly bundle: Uint8Array;
}

/** A peer to pull from, with the changes it offered, if any. */
export interface PullSource extends AgentAddress {
  readonly offered?: OfferedChanges;
}

export type ReplicatorMessage =
  | { readonly type: 'pull'; readonly sources: readonly PullSource[]; readonly replyTo: ActorRef<readonly PulledFrom[]> }
  /** Persisted: the high-water mark for `origin` moved to `seq`. */
  | { readonly type: 'advanced'; readonly origin: string; readonly seq: number };

interface ReplicatorState {
  /** Per origin, the origin's journal sequence number up to which its patterns are in this agent's memory. */
  readonly highWater: Readonly<Record<string, number>>;
}

/** What the replicator's agent accepts: its feature space, so arriving bundles are validated before they are combined. */
export interface ReplicaSpace {
  readonly featureSpaceId: string;
  readonly dimensions: number;
}

/**
 * The sync side of a mesh node: it keeps, for every peer, the high-water
 * mark of that peer's journal already merged into its own agent's memory,
 * and on `pull` asks every peer's agent at once for what it originated since
 * then, validates each bundle, and hands the valid patterns to its own agent
 * in one import — one transaction and one reload of the learner, however
 * many peers there are. A bundle that fails validation is refused alone,
 * counted, and moved past. Anti-entropy is therefore the same operation as
 * ordinary sync: an agent that was down pulls from its marks and gets
 * everything it missed, however long it was gone. The marks are persisted
 * (journal on LMDB), so a replicator that crashes resumes from them instead
 * of pulling everything again.
 *
 * Only agents are asked, and agents never ask anyone, so replicators
 * pulling from one another's agents cannot deadlock; requests go through the
 * swarm, which gives up on an agent the moment it goes down, so a dead peer
 * never holds up a sync.
 */
/**
 * Bundles are asked for in slices of at most this many bytes (estimated from
 * the dimensions), so each reply fits in a network frame however far behind
 * the mark is; the slices of one pull are combined into one import.
 */
const SLICE_BYTES = 512 * 1024;

export interface ReplicatorOptions {
  /** Screen arriving patterns against the agent's recent data (`validateOnRecentData`). */
  readonly screen?: ScreenOptions;
  /** Largest bundle asked of a peer at once, estimated from the dimensions. Default 512 KiB, half a network frame. */
  readonly sliceBytes?: number;
}

export function replicator(own: AgentAddress, space: ReplicaSpace, request: AgentRequester, options: ReplicatorOptions = {}): Behaviour<ReplicatorMessage> {
  const { screen } = options;
  const limit = sliceLimit(space, options.sliceBytes);
  return persistent<ReplicatorState, ReplicatorMessage>({
    persistenceKey: `replicator/${own.id}`,
    snapshotEvery: 500,
    initialState: { highWater: {} },
    receive: async (state, message, ctx) => {
      if (message.type === 'advanced') return { highWater: { ...state.highWater, [message.origin]: message.seq } };
      const now = () => ctx.clock.now();
      const fetched = await Promise.all(
        message.sources.map((source) => {
          const mark = state.highWater[source.id] ?? 0;
          const { offered } = source;
          if (offered === undefined || offered.from > mark) return fetchChanges(source, mark, space, request, limit);
          return mark >= offered.seq ? Promise.resolve<Fetched>({ kind: 'valid', origin: source.id, seq: mark, patterns: [], bytes: 0 }) : taken(source.id, offered, space);
        }),
      );
      const patterns = fetched.flatMap((f) => (f.kind === 'valid' ? f.patterns : []));
      const bundle = patterns.length === 0 ? undefined : encodeBundle(patterns, space);
      const imported =
        bundle === undefined
          ? undefined
          : await request(own, (replyTo: ActorRef<ImportReply>) => ({ type: 'import', bundle, mode: 'full', ...(screen === undefined ? {} : { screen }), replyTo }));
      const importedAll = bundle === undefined || imported?.ok === true;
      const at = now();
      const screened = new Set(imported?.ok === true ? imported.screened : []);
      const pulled: PulledFrom[] = [];
      const advanced: { origin: string; seq: number }[] = [];
      for (const f of fetched) {
        // Marks move only once what was fetched is in the agent's memory (or was refused for good).
        const landed = f.kind === 'refused' || (f.kind === 'valid' && importedAll);
        pulled.push(report(f, landed, screened, at));
        if (landed && f.seq > (state.highWater[f.origin] ?? 0)) advanced.push({ origin: f.origin, seq: f.seq });
      }
      // The patterns are in the agent's memory: say so now, and journal the marks after. A crash in between
      // only leaves a mark behind, and the next pull fetches again what it covers; no next message is taken
      // before the marks are journaled.
      dispatch(message.replyTo, pulled);
      let current = state;
      for (const { origin, seq } of advanced) {
        await ctx.persist({ type: 'advanced', origin, seq });
        current = { highWater: { ...current.highWater, [origin]: seq } };
      }
      return current;
    },
  });
}

/** Patterns per `changes` slice: `sliceBytes` (default 512 KiB) over a pattern's estimated size. */
export function sliceLimit(space: ReplicaSpace, sliceBytes = SLICE_BYTES): number {
  return Math.max(1, Math.floor(sliceBytes / (space.dimensions * 4 + 512)));
}

export type Fetched =
  | { readonly kind: 'missed'; readonly origin: string }
  | { readonly kind: 'valid'; readonly origin: string; readonly seq: number; readonly patterns: readonly Pattern[]; readonly bytes: number }
  | { readonly kind: 'refused'; readonly origin: string; readonly seq: number; readonly count: number; readonly bytes: number };

/** Offered changes as if fetched: a bundle that fails validation is refused whole, as a fetched one is. */
function taken(origin: string, offered: OfferedChanges, space: ReplicaSpace): Fetched {
  const bytes = offered.bundle.byteLength;
  try {
    return { kind: 'valid', origin, seq: offered.seq, patterns: decodeBundle(offered.bundle, space).patterns, bytes };
  } catch (error) {
    if (error instanceof BundleError) return { kind: 'refused', origin, seq: offered.seq, count: 0, bytes };
    throw error;
  }
}

/** What `source` originated or changed since `since`, asked for in slices of `limit` patterns and gathered. */
export async function fetchChanges(source: AgentAddress, since: number, space: ReplicaSpace, request: AgentRequester, limit: number): Promise<Fetched> {
  const patterns: Pattern[] = [];
  let bytes = 0;
  let count = 0;
  let seq = since;
  for (;;) {
    const from = seq;
    const changes = await request(source, (replyTo: ActorRef<ChangesReply>) => ({ type: 'changes', since: from, limit, replyTo }));
    if (changes === undefined || !changes.ok) {
      // What the earlier slices brought still counts: the mark moves to where they end.
      return patterns.length === 0 && seq === since ? { kind: 'missed', origin: source.id } : { kind: 'valid', origin: source.id, seq, patterns, bytes };
    }
    bytes += changes.bundle.byteLength;
    count += changes.count;
    try {
      patterns.push(...decodeBundle(changes.bundle, space).patterns);
    } catch (error) {
      // A bundle that fails validation would fail again: move past it, counting what it carried as refused.
      if (error instanceof BundleError) return { kind: 'refused', origin: source.id, seq: changes.seq, count, bytes };
      throw error;
    }
    seq = changes.seq;
    if (!changes.more || changes.seq <= from) return { kind: 'valid', origin: source.id, seq, patterns, bytes };
  }
}

function report(f: Fetched, landed: boolean, screened: ReadonlySet<string>, at: number): PulledFrom {
  if (f.kind === 'missed' || !landed) return { origin: f.origin, patterns: 0, refused: 0, bytes: 0, at, reached: false };
  if (f.kind === 'refused') return { origin: f.origin, patterns: 0, refused: f.count, bytes: f.bytes, at, reached: true };
  const refused = f.patterns.filter((p) => screened.has(p.id)).length;
  return { origin: f.origin, patterns: f.patterns.length - refused, refused, bytes: f.bytes, at, reached: true };
}
