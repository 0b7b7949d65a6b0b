import { SwarmbankError } from '../errors.js';

/** An option of `openPatternMemory` is out of range, or disagrees with what the memory on disk was created with. */
export class MemoryOptionsError extends SwarmbankError {
  constructor(
    readonly option: string,
    message: string,
  ) {
    super('MEMORY_OPTIONS', `pattern memory option ${option}: ${message}`);
  }
}

/** A directory holds no pattern memory; `reason` says what it holds instead. Nothing was created in it. */
export class NotAPatternMemoryError extends SwarmbankError {
  constructor(
    readonly path: string,
    readonly reason: string,
  ) {
    super('NOT_A_PATTERN_MEMORY', `${path}: ${reason}`);
  }
}

/**
 * A memory's `data.mdb` is damaged (truncated, overwritten, not LMDB's at
 * all) so that LMDB would read past its end or trust garbage, which kills
 * the process rather than throwing. Refused before LMDB opens it; nothing
 * was changed.
 */
export class CorruptMemoryFileError extends SwarmbankError {
  constructor(
    readonly file: string,
    readonly reason: string,
  ) {
    super('MEMORY_FILE_CORRUPT', `${file} is damaged: ${reason}`);
  }
}

/** A stored record could not be decoded into what its database holds. Nothing was changed. */
export class CorruptRecordError extends SwarmbankError {
  constructor(
    readonly database: string,
    readonly key: unknown,
    cause: unknown,
  ) {
    super('CORRUPT_RECORD', `${database} record ${String(key)} is corrupt: ${reasonOf(cause)}`, { cause });
  }
}

/** A write would leave the memory over capacity and every pattern that could make room is consolidated. */
export class MemoryFullError extends SwarmbankError {
  constructor(readonly capacity: number) {
    super('MEMORY_FULL', `pattern memory is full: ${capacity} patterns and none of them may be evicted`);
  }
}

/** An operation named a pattern the memory does not hold. */
export class PatternNotFoundError extends SwarmbankError {
  constructor(readonly patternId: string) {
    super('PATTERN_NOT_FOUND', `pattern ${JSON.stringify(patternId)} is not in the memory`);
  }
}

export type JournalErrorCode = 'JOURNAL_COMPACTED' | 'JOURNAL_GAP' | 'JOURNAL_NOT_EMPTY';

/** The journal cannot serve or accept the requested range of events. */
export class JournalError extends SwarmbankError {
  declare readonly code: JournalErrorCode;

  constructor(code: JournalErrorCode, message: string) {
    super(code, message);
  }
}

/** An event was persisted with a sequence number its actor already used or skipped past. */
export class PersistenceConflictError extends SwarmbankError {
  constructor(
    readonly key: string,
    readonly sequenceNumber: number,
    readonly lastSequenceNumber: number,
  ) {
    super(
      'PERSISTENCE_CONFLICT',
      `event ${sequenceNumber} of ${JSON.stringify(key)} must be above ${lastSequenceNumber}`,
    );
  }
}

function reasonOf(cause: unknown): string {
  return cause instanceof Error ? cause.message : String(cause);
}
