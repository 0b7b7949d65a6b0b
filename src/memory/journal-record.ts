import { newSlab, patternBound, writePattern, type Slab } from './codec.js';
import type { Pattern } from './pattern.js';

/**
 * One write transaction's journal record (see journal.ts for its layout),
 * built in place: envelopes are copied in as they come, and a new pattern's
 * record is encoded straight into it, where the patterns database takes it
 * from too. Joining separately encoded values at the end cost a second copy
 * of every pattern and a fresh buffer the size of the whole batch per
 * transaction (1.6 MB for a thousand 384-dimensional patterns).
 *
 * The buffer is reused by the next transaction, so a view it hands out is
 * good until then only. That suffices: inside a write transaction lmdb
 * copies a value into the database when `put` is called.
 */
export class JournalRecordBuilder {
  private out: Slab = newSlab(INITIAL_SIZE);
  private values = 0;

  /** Starts an empty record. */
  begin(): void {
    this.out.at = this.out.start = HEADER;
    this.values = 0;
  }

  get count(): number {
    return this.values;
  }

  /** Where the record ends now; `truncate` goes back to it. */
  mark(): number {
    return this.out.at;
  }

  /** Drops every value appended since `mark` returned `at`; `values` is how many there were. */
  truncate(at: number, values: number): void {
    this.out.at = at;
    this.values -= values;
  }

  append(value: Uint8Array): void {
    this.room(value.byteLength);
    this.out.bytes.set(value, this.out.at);
    this.out.at += value.byteLength;
    this.values++;
  }

  /** Encodes the pattern as the next value and returns its record, a view valid until the next `begin`. */
  appendPattern(pattern: Pattern): Uint8Array {
    this.room(patternBound(pattern));
    const start = this.out.at;
    writePattern(this.out, pattern);
    this.values++;
    return this.out.bytes.subarray(start, this.out.at);
  }

  /** The record, header included: a view valid until the next `begin`. */
  finish(): Uint8Array {
    const { bytes, view } = this.out;
    bytes[0] = 0xdd;
    view.setUint32(1, this.values);
    const record = bytes.subarray(0, this.out.at);
    // One huge import should not pin its buffer for the life of the memory.
    if (bytes.byteLength > RETAINED_SIZE) this.out = newSlab(INITIAL_SIZE);
    return record;
  }

  private room(size: number): void {
    const needed = this.out.at + size;
    if (needed <= this.out.bytes.byteLength) return;
    const grown = newSlab(Math.max(needed, this.out.bytes.byteLength * 2));
    grown.bytes.set(this.out.bytes.subarray(0, this.out.at));
    grown.at = this.out.at;
    grown.start = this.out.start;
    this.out = grown;
  }
}

/** A msgpack array32 header: 0xdd and the count. */
const HEADER = 5;
const INITIAL_SIZE = 64 * 1024;
const RETAINED_SIZE = 8 * 1024 * 1024;
