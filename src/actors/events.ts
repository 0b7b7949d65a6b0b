/**
 * Everything that happens to actors is published here, in order: what
 * `awaitEvent`, metrics exporters, fault-plan replays and users' own monitors
 * read. Listeners run synchronously; one that throws is removed and the
 * error is reported on `listener-failed` rather than breaking delivery.
 */
export type StopReason =
  | 'requested'
  | 'failure'
  | 'parent-stopped'
  | 'parent-restarted'
  | 'restart-budget'
  | 'escalation'
  | 'runtime-stopped';

/** `unreachable`: for an actor on another node, whose node is gone or whose outbox is full, or a message that cannot be sent over the network. */
export type DeadLetterReason = 'stopped' | 'unknown' | 'ask-expired' | 'unreachable';

export type FaultKind = 'crash' | 'delay' | 'drop' | 'kill';

export type RuntimeEvent =
  | { readonly type: 'spawned'; readonly path: string; readonly at: number }
  /**
   * A live incarnation failed and its supervisor decides (an `onStop` that throws is reported here too, with no
   * message and no decision). One failure per incarnation, unless a resume keeps it: what fails later is `after-end`.
   */
  | {
      readonly type: 'crashed';
      readonly path: string;
      readonly error: Error;
      /** The message being processed when the actor failed (undefined when it failed outside a message). */
      readonly message: unknown;
      readonly incarnation: number;
      readonly at: number;
    }
  | {
      readonly type: 'restarted';
      readonly path: string;
      /** 1 for the first restart within the budget window; siblings restarted by all-for-one report 0. */
      readonly attempt: number;
      readonly delayMs: number;
      readonly cause: 'failure' | 'sibling-failure';
      readonly at: number;
    }
  | AfterEndEvent
  | { readonly type: 'resumed'; readonly path: string; readonly at: number }
  | { readonly type: 'stopped'; readonly path: string; readonly reason: StopReason; readonly at: number }
  | {
      readonly type: 'dead-letter';
      readonly path: string;
      readonly message: unknown;
      readonly reason: DeadLetterReason;
      readonly at: number;
    }
  | { readonly type: 'escalated'; readonly path: string; readonly to: string; readonly error: Error; readonly at: number }
  | {
      readonly type: 'fault-injected';
      readonly path: string;
      readonly fault: FaultKind;
      readonly message: unknown;
      readonly at: number;
    }
  | { readonly type: 'listener-failed'; readonly error: Error; readonly at: number }
  | ClusterEvent;

/** Why a network node refused a peer's session or closed it. */
export type PeerRefusal =
  /** The peer sent no valid hello within the handshake timeout. */
  | 'handshake-timeout'
  /** The hello carried no token, or a token that is not the HMAC of our nonce under the cluster secret. */
  | 'bad-token'
  /** The peer claimed our own node id, or that of a member already connected. */
  | 'duplicate-node'
  /** A frame over the size limit, or one that does not decode to a protocol message. */
  | 'bad-frame'
  /** The peer's frame size limit is not ours: a frame one side may send, the other would refuse. */
  | 'frame-limit'
  /** More messages per second than the per-peer limit allows. */
  | 'rate-limit'
  /** More asks awaiting our replies than the per-peer limit allows. */
  | 'too-many-asks';

/**
 * Cluster membership as one node sees it, published by `src/net` on its
 * runtime's stream. A member is `up` once its handshake succeeded,
 * `unreachable` when it has sent nothing (not even a heartbeat) for the
 * failure-detection timeout, and `down` when its session is gone.
 */
export type ClusterEvent =
  | { readonly type: 'member-up'; readonly node: string; readonly address: string; readonly protocol: string; readonly at: number }
  | { readonly type: 'member-unreachable'; readonly node: string; readonly silentMs: number; readonly at: number }
  | { readonly type: 'member-down'; readonly node: string; readonly reason: string; readonly at: number }
  | { readonly type: 'peer-refused'; readonly address: string; readonly node?: string; readonly reason: PeerRefusal; readonly at: number };

/**
 * Something that reached an incarnation after it was over: it had failed
 * (a message, a kill, an escalation), been restarted (also for a sibling's
 * failure) or stopped. An incarnation fails once, as in Erlang/OTP and Akka,
 * so this is not a `crashed`: it is not supervised, calls no `onStop`, costs
 * no restart, and a state it carries is discarded. Either
 * - a message the incarnation was processing (`message`) settled late:
 *   `failed` with `error`, or `succeeded` (counted as processed, its
 *   returned state discarded); or
 * - the actor was killed while it had no live incarnation (during a restart
 *   backoff): `failed`, with `ActorKilledError` and no message.
 * Failures are counted in the metrics as `failedAfterEnd`.
 */
export type AfterEndEvent = {
  readonly type: 'after-end';
  readonly path: string;
  /** The incarnation that had ended. */
  readonly incarnation: number;
  readonly message: unknown;
  readonly at: number;
} & ({ readonly outcome: 'failed'; readonly error: Error } | { readonly outcome: 'succeeded' });

export type RuntimeEventType = RuntimeEvent['type'];
export type EventOf<T extends RuntimeEventType> = Extract<RuntimeEvent, { type: T }>;
export type Unsubscribe = () => void;

export class EventStream {
  private listeners: ((event: RuntimeEvent) => void)[] = [];

  subscribe(listener: (event: RuntimeEvent) => void): Unsubscribe {
    this.listeners = [...this.listeners, listener];
    return () => {
      this.listeners = this.listeners.filter((l) => l !== listener);
    };
  }

  on<T extends RuntimeEventType>(type: T, listener: (event: EventOf<T>) => void): Unsubscribe {
    return this.subscribe((event) => {
      if (event.type === type) listener(event as EventOf<T>);
    });
  }

  get hasListeners(): boolean {
    return this.listeners.length > 0;
  }

  publish(event: RuntimeEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (error) {
        this.listeners = this.listeners.filter((l) => l !== listener);
        this.publish({ type: 'listener-failed', error: error instanceof Error ? error : new Error(String(error)), at: event.at });
      }
    }
  }
}
