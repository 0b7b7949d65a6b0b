/**
 * The storage a persistent actor writes its events and snapshots to. It
 * mirrors nact's persistence-engine contract (events, persist,
 * latestSnapshot, takeSnapshot) with readonly records and async iteration;
 * the runtime adapts it to nact. It sits below both layers that need it: the
 * actor runtime uses it, src/memory implements it on LMDB. Tests use
 * `createInMemoryPersistence`.
 */
export interface PersistedEvent {
  readonly key: string;
  /** 1-based, strictly increasing per key. */
  readonly sequenceNumber: number;
  readonly data: unknown;
  readonly tags: readonly string[];
  readonly createdAt: number;
  readonly isDeleted: boolean;
}

export interface PersistedSnapshot {
  readonly key: string;
  /** The sequence number of the last event folded into `data`. */
  readonly sequenceNumber: number;
  readonly data: unknown;
  readonly createdAt: number;
}

export interface PersistenceEngine {
  /** Events of `key` with a sequence number above `afterSequence`, in order. */
  events(key: string, afterSequence: number): AsyncIterable<PersistedEvent> | Iterable<PersistedEvent>;
  persist(event: PersistedEvent): Promise<void>;
  latestSnapshot(key: string): Promise<PersistedSnapshot | undefined>;
  takeSnapshot(snapshot: PersistedSnapshot): Promise<void>;
}

/** A persistence engine held in memory: for tests and for actors whose history may die with the process. */
export function createInMemoryPersistence(): PersistenceEngine & { eventCount(key: string): number } {
  const journals = new Map<string, PersistedEvent[]>();
  const snapshots = new Map<string, PersistedSnapshot>();
  return {
    *events(key, afterSequence) {
      for (const event of journals.get(key) ?? []) {
        if (event.sequenceNumber > afterSequence) yield event;
      }
    },
    async persist(event) {
      const journal = journals.get(event.key) ?? [];
      journal.push(event);
      journals.set(event.key, journal);
    },
    async latestSnapshot(key) {
      return snapshots.get(key);
    },
    async takeSnapshot(snapshot) {
      const current = snapshots.get(snapshot.key);
      if (!current || current.sequenceNumber <= snapshot.sequenceNumber) snapshots.set(snapshot.key, snapshot);
    },
    eventCount(key) {
      return journals.get(key)?.length ?? 0;
    },
  };
}
