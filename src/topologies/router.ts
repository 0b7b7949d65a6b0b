import { dispatch } from '../actors/ask.js';
import { persistent, type Behaviour } from '../actors/behaviour.js';
import type { ActorRef } from '../actors/ref.js';
import type { PredictReply } from '../agents/messages.js';
import type { Direction } from '../market/outcomes.js';
import { createRandom } from '../random.js';
import type { AgentAddress, AgentRequester } from './swarm.js';
import { consensus } from './vote.js';

export type Group = 'blue' | 'green';

export const GROUPS: readonly Group[] = ['blue', 'green'];

/** The router's answer to one request: exactly one per request. */
export interface Decision {
  readonly requestId: string;
  /** The group that decided; undefined when no agent of either group answered, and the call is then flat. */
  readonly group: Group | undefined;
  readonly version: string | undefined;
  readonly direction: Direction;
  /** Agents whose calls were counted. */
  readonly voters: number;
  /** The group the request was routed to had no agent answering, and the other group decided. */
  readonly fallback: boolean;
}

export interface RouterStatus {
  /** The group that takes every request, or, while A/B testing, the one that is live and compared with the other. */
  readonly live: Group;
  /** Whether requests are being split between the groups now: A/B testing is on and blue is live. */
  readonly splitting: boolean;
  /** Since this incarnation started. */
  readonly received: number;
  readonly answered: number;
  readonly inFlight: number;
  readonly byGroup: Readonly<Record<Group, number>>;
  readonly fallbacks: number;
}

export type RouterMessage =
  | { readonly type: 'decide'; readonly requestId: string; readonly features: Float32Array; readonly replyTo: ActorRef<Decision> }
  /** Makes `group` live for every request received after this one (cutover to green, rollback to blue). Persisted. */
  | { readonly type: 'promote'; readonly group: Group; readonly replyTo?: ActorRef<RouterStatus> }
  | { readonly type: 'status'; readonly replyTo: ActorRef<RouterStatus> };

export interface RouterOptions {
  readonly versions: Readonly<Record<Group, string>>;
  /** The group's agents that are live now. */
  readonly agents: (group: Group) => readonly AgentAddress[];
  readonly request: AgentRequester;
  readonly abTesting: boolean;
  readonly seed: number;
  /** Share of requests sent to green while splitting. Default 0.5. */
  readonly greenShare?: number;
  /** Journal name; default `blue-green/router`. */
  readonly persistenceKey?: string;
}

interface Counts {
  received: number;
  answered: number;
  inFlight: number;
  fallbacks: number;
  readonly byGroup: Record<Group, number>;
}

interface RouterState {
  readonly live: Group;
  readonly counts: Counts;
}

/**
 * The blue-green router. Every request is answered exactly once: the
 * router picks its group when it takes the request from its mailbox —
 * the live group, or while A/B testing (blue live, `abTesting` on) green
 * with probability `greenShare` by a draw seeded from the deployment's seed
 * and the request id, so a request is routed the same way in every run —
 * asks that group's live agents to predict, and replies with their
 * majority (a tie is flat). The asks run beside the mailbox, so the router
 * keeps taking requests while earlier ones are answered.
 *
 * Cutover and rollback are a `promote` message in the same mailbox: every
 * request taken before it finishes on the group it was routed to, every
 * one after it goes to the promoted group, and none is dropped or answered
 * twice in between. A group with no agent answering (all down) hands the
 * request to the other group (a fallback, counted); with nobody answering
 * anywhere the decision is flat, but it is still a reply.
 *
 * The live group is persisted (its `promote` messages are journaled), so a
 * restarted router keeps the group it had promoted; its traffic counters
 * start again from zero.
 */
export function router(options: RouterOptions): Behaviour<RouterMessage> {
  const greenShare = options.greenShare ?? 0.5;
  const root = createRandom(options.seed);
  const routed = (requestId: string): Group => (root.fork(`split:${requestId}`).next() < greenShare ? 'green' : 'blue');
  return persistent<RouterState, RouterMessage>({
    persistenceKey: options.persistenceKey ?? 'blue-green/router',
    initialState: () => ({ live: 'blue', counts: { received: 0, answered: 0, inFlight: 0, fallbacks: 0, byGroup: { blue: 0, green: 0 } } }),
    receive: async (state, message, ctx) => {
      switch (message.type) {
        case 'promote': {
          if (!ctx.recovering) await ctx.persist({ type: 'promote', group: message.group });
          const next = { ...state, live: message.group };
          if (message.replyTo !== undefined) dispatch(message.replyTo, status(next, options.abTesting));
          return next;
        }
        case 'status':
          dispatch(message.replyTo, status(state, options.abTesting));
          return state;
        case 'decide': {
          const { counts } = state;
          counts.received++;
          counts.inFlight++;
          const group = splitting(state, options.abTesting) ? routed(message.requestId) : state.live;
          void decide(group, message, options).then((decision) => {
            counts.inFlight--;
            counts.answered++;
            if (decision.group !== undefined) counts.byGroup[decision.group]++;
            if (decision.fallback) counts.fallbacks++;
            dispatch(message.replyTo, decision);
          });
          return state;
        }
      }
    },
  });
}

function splitting(state: RouterState, abTesting: boolean): boolean {
  return abTesting && state.live === 'blue';
}

function status(state: RouterState, abTesting: boolean): RouterStatus {
  const { received, answered, inFlight, fallbacks, byGroup } = state.counts;
  return { live: state.live, splitting: splitting(state, abTesting), received, answered, inFlight, byGroup: { ...byGroup }, fallbacks };
}

async function decide(group: Group, message: Extract<RouterMessage, { type: 'decide' }>, options: RouterOptions): Promise<Decision> {
  for (const [candidate, fallback] of [[group, false], [other(group), true]] as const) {
    const calls = await groupCalls(candidate, message.features, options);
    if (calls.length > 0) {
      return {
        requestId: message.requestId,
        group: candidate,
        version: options.versions[candidate],
        direction: consensus(calls, calls.length, 0.5),
        voters: calls.length,
        fallback,
      };
    }
  }
  return { requestId: message.requestId, group: undefined, version: undefined, direction: 0, voters: 0, fallback: true };
}

/** The calls of the group's agents that answered; never throws. */
async function groupCalls(group: Group, features: Float32Array, options: RouterOptions): Promise<Direction[]> {
  const replies = await Promise.all(
    options.agents(group).map((agent) =>
      options.request(agent, (replyTo: ActorRef<PredictReply>) => ({ type: 'predict', features, replyTo })).catch(() => undefined),
    ),
  );
  return replies.flatMap((reply) => (reply?.ok === true ? [reply.prediction.direction] : []));
}

export function other(group: Group): Group {
  return group === 'blue' ? 'green' : 'blue';
}
