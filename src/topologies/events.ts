import type { TopologyName } from './config.js';

/**
 * What happened in a deployment, in the order it happened. Crashes and
 * restarts come from the runtime's supervision of the agents; the rest are
 * the topology's own decisions. `at` is the runtime clock in ms.
 */
export type DeploymentEvent =
  | { readonly type: 'crash'; readonly agent: string; readonly error: string; readonly at: number }
  | { readonly type: 'restart'; readonly agent: string; readonly attempt: number; readonly delayMs: number; readonly at: number }
  | { readonly type: 'agent-stopped'; readonly agent: string; readonly at: number }
  /** `from`'s patterns reached `to`: how many were written, how many refused by validation. */
  | { readonly type: 'sync'; readonly from: string; readonly to: string; readonly patterns: number; readonly refused: number; readonly bytes: number; readonly at: number }
  /** `agent` wrote `patterns` new or updated patterns to its memory in a training round (cluster mesh: announced to every member). */
  | { readonly type: 'commit'; readonly agent: string; readonly patterns: number; readonly at: number }
  | { readonly type: 'vote'; readonly episode: number; readonly decided: number; readonly abstained: number; readonly live: number; readonly at: number }
  | { readonly type: 'aggregate'; readonly episode: number; readonly patterns: number; readonly latencyMs: number; readonly at: number }
  /** A hierarchy's standby node began aggregating: no leader was reachable. */
  | { readonly type: 'take-over'; readonly agent: string; readonly episode: number; readonly at: number }
  /** The standby gave back to a reachable leader the patterns it changed while acting, and stopped acting. */
  | { readonly type: 'hand-back'; readonly from: string; readonly to: string; readonly patterns: number; readonly at: number }
  | { readonly type: 'transfer'; readonly from: string; readonly to: string; readonly patterns: number; readonly at: number }
  | { readonly type: 'scale'; readonly direction: 'up' | 'down'; readonly agents: number; readonly cause: string; readonly at: number }
  | { readonly type: 'rotate'; readonly condition: string; readonly strategy: string; readonly at: number }
  | { readonly type: 'cutover'; readonly to: string; readonly at: number }
  | { readonly type: 'rollback'; readonly to: string; readonly preserved: number; readonly at: number }
  | { readonly type: 'episode'; readonly topology: TopologyName; readonly episode: number; readonly accuracy: number; readonly at: number };

export type DeploymentEventType = DeploymentEvent['type'];
export type DeploymentEventOf<T extends DeploymentEventType> = Extract<DeploymentEvent, { readonly type: T }>;

export type Unsubscribe = () => void;

/**
 * The deployment's event stream. A listener that throws is removed rather
 * than allowed to break the deployment, like the runtime's own stream.
 */
export class DeploymentEvents {
  private listeners: ((event: DeploymentEvent) => void)[] = [];
  private readonly counts = new Map<DeploymentEventType, number>();

  subscribe(listener: (event: DeploymentEvent) => void): Unsubscribe {
    this.listeners = [...this.listeners, listener];
    return () => {
      this.listeners = this.listeners.filter((l) => l !== listener);
    };
  }

  on<T extends DeploymentEventType>(type: T, listener: (event: DeploymentEventOf<T>) => void): Unsubscribe {
    return this.subscribe((event) => {
      if (event.type === type) listener(event as DeploymentEventOf<T>);
    });
  }

  /** How many events of `type` were published so far. */
  count(type: DeploymentEventType): number {
    return this.counts.get(type) ?? 0;
  }

  publish(event: DeploymentEvent): void {
    this.counts.set(event.type, this.count(event.type) + 1);
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch {
        this.listeners = this.listeners.filter((l) => l !== listener);
      }
    }
  }
}
