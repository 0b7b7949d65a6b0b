/** What one actor has done, read with `runtime.metricsOf(ref)`. */
export interface ActorMetrics {
  readonly path: string;
  readonly status: ActorStatus;
  /** 0 for the first start, +1 for each restart. */
  readonly incarnation: number;
  /** Messages that completed, including any that completed after their incarnation had ended (`after-end`). */
  readonly processed: number;
  /** Failures of a live incarnation (a message that threw, a kill, an escalation): each one is a `crashed` event. */
  readonly failed: number;
  /** Failures that reached an incarnation already over, each an `after-end` event: not supervised, no restart. */
  readonly failedAfterEnd: number;
  readonly restarts: number;
  readonly mailboxDepth: number;
  readonly lastError: Error | undefined;
}

export type ActorStatus = 'running' | 'suspended' | 'restarting' | 'stopping' | 'stopped';

/** Totals for the whole runtime, read with `runtime.metrics()`. */
export interface RuntimeMetrics {
  readonly liveActors: number;
  readonly spawned: number;
  readonly stopped: number;
  readonly processed: number;
  readonly failed: number;
  readonly failedAfterEnd: number;
  readonly restarts: number;
  readonly escalations: number;
  readonly deadLetters: number;
  readonly faultsInjected: number;
  readonly pendingAsks: number;
}

export type MutableRuntimeMetrics = { -readonly [K in keyof RuntimeMetrics]: RuntimeMetrics[K] };

export function emptyRuntimeMetrics(): MutableRuntimeMetrics {
  return {
    liveActors: 0,
    spawned: 0,
    stopped: 0,
    processed: 0,
    failed: 0,
    failedAfterEnd: 0,
    restarts: 0,
    escalations: 0,
    deadLetters: 0,
    faultsInjected: 0,
    pendingAsks: 0,
  };
}
