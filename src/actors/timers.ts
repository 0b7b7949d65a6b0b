import type { Clock, TimerHandle } from './clock.js';

/**
 * Per-actor timers, keyed so that starting a key again replaces it. They send
 * messages to the actor itself and are all cancelled when the actor stops or
 * restarts, so no timer outlives the incarnation that started it.
 */
export interface Timers<Msg> {
  startSingle(key: string, message: Msg, delayMs: number): void;
  startPeriodic(key: string, message: Msg, intervalMs: number): void;
  cancel(key: string): void;
  isActive(key: string): boolean;
  readonly activeCount: number;
}

export class TimerSet<Msg> implements Timers<Msg> {
  private readonly active = new Map<string, TimerHandle>();

  constructor(
    private readonly clock: Clock,
    private readonly send: (message: Msg) => void,
  ) {}

  get activeCount(): number {
    return this.active.size;
  }

  startSingle(key: string, message: Msg, delayMs: number): void {
    this.cancel(key);
    this.active.set(
      key,
      this.clock.setTimeout(() => {
        this.active.delete(key);
        this.send(message);
      }, delayMs),
    );
  }

  startPeriodic(key: string, message: Msg, intervalMs: number): void {
    if (!(intervalMs > 0)) throw new RangeError(`periodic timer ${key}: interval must be > 0 ms, got ${intervalMs}`);
    this.cancel(key);
    const tick = (): void => {
      this.active.set(key, this.clock.setTimeout(tick, intervalMs));
      this.send(message);
    };
    this.active.set(key, this.clock.setTimeout(tick, intervalMs));
  }

  cancel(key: string): void {
    this.active.get(key)?.cancel();
    this.active.delete(key);
  }

  isActive(key: string): boolean {
    return this.active.has(key);
  }

  cancelAll(): void {
    for (const handle of this.active.values()) handle.cancel();
    this.active.clear();
  }
}
