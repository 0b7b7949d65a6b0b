import { dispatch } from '../actors/ask.js';
import { stateless } from '../actors/behaviour.js';
import type { ActorRef, AnyActorRef } from '../actors/ref.js';
import type { Runtime } from '../actors/runtime.js';
import type { TimerHandle } from '../actors/clock.js';
import type { Decision, RouterMessage } from './router.js';

/** Requests sent through the router and what became of them, as the sender saw it. */
export interface TrafficCounts {
  readonly sent: number;
  /** Answered once, in time. */
  readonly answered: number;
  /** Not answered within the timeout. */
  readonly dropped: number;
  /** Replies to a request already answered. */
  readonly duplicated: number;
  /** Replies that came after their request had been counted as dropped. */
  readonly late: number;
  /** Sent, neither answered nor dropped yet. */
  readonly pending: number;
}

interface Pending {
  readonly resolve: (decision: Decision | undefined) => void;
  readonly timer: TimerHandle;
}

/**
 * The sending side of the router, as a service embedding the deployment
 * sees it: each request gets a fresh id, its reply arrives at an inbox
 * actor, and every reply is matched against what was sent, so a request
 * answered twice, never, or too late is counted rather than assumed away.
 * Ids already answered are remembered for the deployment's lifetime to
 * tell duplicates (a few bytes per request).
 */
export class DecisionClient {
  private readonly inbox: ActorRef<Decision>;
  private readonly pending = new Map<string, Pending>();
  private readonly answeredIds = new Set<string>();
  private readonly droppedIds = new Set<string>();
  private next = 0;
  private counts = { sent: 0, answered: 0, dropped: 0, duplicated: 0, late: 0 };

  constructor(
    private readonly runtime: Runtime,
    parent: AnyActorRef,
    private readonly router: ActorRef<RouterMessage>,
    private readonly timeoutMs: number,
    private readonly prefix = 'req',
  ) {
    this.inbox = runtime.spawn(parent, stateless<Decision>((decision) => this.receive(decision)), { name: `${prefix}-inbox` });
  }

  /** Asks the router for a decision on `features`; undefined when the request was dropped (no answer within the timeout). */
  decide(features: Float32Array): Promise<Decision | undefined> {
    const requestId = `${this.prefix}-${++this.next}`;
    this.counts.sent++;
    return new Promise((resolve) => {
      const timer = this.runtime.clock.setTimeout(() => {
        if (!this.pending.delete(requestId)) return;
        this.counts.dropped++;
        this.droppedIds.add(requestId);
        resolve(undefined);
      }, this.timeoutMs);
      this.pending.set(requestId, { resolve, timer });
      dispatch(this.router, { type: 'decide', requestId, features, replyTo: this.inbox });
    });
  }

  traffic(): TrafficCounts {
    return { ...this.counts, pending: this.pending.size };
  }

  private receive(decision: Decision): void {
    const { requestId } = decision;
    const waiting = this.pending.get(requestId);
    if (waiting !== undefined) {
      this.pending.delete(requestId);
      waiting.timer.cancel();
      this.answeredIds.add(requestId);
      this.counts.answered++;
      waiting.resolve(decision);
    } else if (this.answeredIds.has(requestId)) {
      this.counts.duplicated++;
    } else if (this.droppedIds.has(requestId)) {
      this.counts.late++;
    }
  }
}
