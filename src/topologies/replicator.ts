import { dispatch } from '../actors/ask.js';
import { persistent, type Behaviour } from '../actors/behaviour.js';
import type { ActorRef } from '../actors/ref.js';
import type { ChangesReply, ImportReply } from '../agents/messages.js';
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

export type ReplicatorMessage =
  | { readonly type: 'pull'; readonly sources: readonly AgentAddress[]; readonly replyTo: ActorRef<readonly PulledFrom[]> }
  /** Persisted: the high-water mark for `origin` moved to `seq`. */
  | { readonly type: 'advanced'; readonly origin: string; readonly seq: number };

interface ReplicatorState {
  /** Per origin, the origin's journal sequence number up to which its patterns are in this agent's memory. */
  readonly highWater: Readonly<Record<string, number>>;
}

/**
 * The sync side of a mesh node: it keeps, for every peer, the high-water
 * mark of that peer's journal already merged into its own agent's memory,
 * and on `pull` asks each peer's agent for what it originated since then
 * and hands it to its own agent to validate and import. Anti-entropy is
 * therefore the same operation as ordinary sync: an agent that was down
 * pulls from its marks and gets everything it missed, however long it was
 * gone. The marks are persisted (journal on LMDB), so a replicator that
 * crashes resumes from them instead of pulling everything again.
 *
 * Only agents are asked, and agents never ask anyone, so replicators
 * pulling from one another's agents cannot deadlock; requests go through the
 * swarm, which gives up on an agent the moment it goes down, so a dead peer
 * never holds up a sync.
 */
export function replicator(own: AgentAddress, request: AgentRequester, screen?: ScreenOptions): Behaviour<ReplicatorMessage> {
  return persistent<ReplicatorState, ReplicatorMessage>({
    persistenceKey: `replicator/${own.id}`,
    snapshotEvery: 500,
    initialState: { highWater: {} },
    receive: async (state, message, ctx) => {
      if (message.type === 'advanced') return { highWater: { ...state.highWater, [message.origin]: message.seq } };
      let current = state;
      const pulled: PulledFrom[] = [];
      for (const source of message.sources) {
        const since = current.highWater[source.id] ?? 0;
        const result = await pullOne(own, source, since, request, screen, () => ctx.clock.now());
        pulled.push(result.report);
        if (result.seq > since) {
          const advanced = { type: 'advanced', origin: source.id, seq: result.seq } as const;
          await ctx.persist(advanced);
          current = { highWater: { ...current.highWater, [source.id]: result.seq } };
        }
      }
      dispatch(message.replyTo, pulled);
      return current;
    },
  });
}

async function pullOne(
  own: AgentAddress,
  source: AgentAddress,
  since: number,
  request: AgentRequester,
  screen: ScreenOptions | undefined,
  now: () => number,
): Promise<{ report: PulledFrom; seq: number }> {
  const missed = { report: { origin: source.id, patterns: 0, refused: 0, bytes: 0, at: now(), reached: false }, seq: since };
  const changes = await request(source, (replyTo: ActorRef<ChangesReply>) => ({ type: 'changes', since, replyTo }));
  if (changes === undefined || !changes.ok) return missed;
  if (changes.count === 0) return { report: { ...missed.report, at: now(), reached: true }, seq: changes.seq };
  const imported = await request(own, (replyTo: ActorRef<ImportReply>) => ({
    type: 'import',
    bundle: changes.bundle,
    mode: 'full',
    ...(screen === undefined ? {} : { screen }),
    replyTo,
  }));
  if (imported === undefined) return missed;
  const bytes = changes.bundle.byteLength;
  // A refused bundle would be refused again: move past it, and count what it carried as refused.
  const report = imported.ok
    ? { origin: source.id, patterns: imported.imported.length, refused: imported.screened.length, bytes, at: now(), reached: true }
    : { origin: source.id, patterns: 0, refused: changes.count, bytes, at: now(), reached: true };
  return { report, seq: changes.seq };
}
