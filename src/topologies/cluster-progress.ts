import { ask, dispatch } from '../actors/ask.js';
import { type Behaviour, persistent } from '../actors/behaviour.js';
import type { ActorRef } from '../actors/ref.js';

/** What a cluster node must not forget across a restart: the episodes it trained, and per worker how far its deltas were aggregated. */
export interface ClusterProgress {
  readonly episodes: number;
  readonly marks: Readonly<Record<string, number>>;
}

export type ProgressMessage =
  | { readonly type: 'trained'; readonly episode: number }
  /** Journal marks per worker; each only ever moves forward. */
  | { readonly type: 'marks'; readonly marks: Readonly<Record<string, number>> }
  | { readonly type: 'read'; readonly replyTo: ActorRef<ClusterProgress> };

/**
 * A node's progress as a persistent actor, journaled on the node's LMDB, so
 * a restarted node trains on from the episode after its last and aggregates
 * each worker from where it left off, rather than repeating either.
 */
export function clusterProgress(persistenceKey: string): Behaviour<ProgressMessage> {
  return persistent<ClusterProgress, ProgressMessage>({
    persistenceKey,
    snapshotEvery: 100,
    initialState: { episodes: 0, marks: {} },
    receive: async (recovered, message, ctx) => {
      const state = upgraded(recovered);
      if (message.type === 'read') {
        dispatch(message.replyTo, state);
        return state;
      }
      if (!ctx.recovering) await ctx.persist(message);
      if (message.type === 'trained') return { ...state, episodes: Math.max(state.episodes, message.episode) };
      const marks = { ...state.marks };
      for (const [worker, seq] of Object.entries(message.marks)) marks[worker] = Math.max(seq, marks[worker] ?? 0);
      return { ...state, marks };
    },
  });
}

/** A snapshot written before the marks were kept held the episode count alone. */
function upgraded(state: ClusterProgress | number): ClusterProgress {
  return typeof state === 'number' ? { episodes: state, marks: {} } : state;
}

export function readProgress(progress: ActorRef<ProgressMessage>, timeoutMs: number): Promise<ClusterProgress> {
  return ask(progress, (replyTo: ActorRef<ClusterProgress>) => ({ type: 'read', replyTo }), timeoutMs);
}
