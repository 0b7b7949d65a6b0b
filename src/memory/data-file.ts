import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CorruptMemoryFileError } from './errors.js';

/**
 * Where the fields of an LMDB meta page lie, for the LMDB that lmdb-js
 * builds (dependencies/lmdb/libraries/liblmdb/mdb.c, 64-bit). Its page
 * header is lmdb-js's, 24 bytes: page number, txnid, pad, flags, bounds.
 * `MDB_meta` follows it: magic, version, map address, map size, then the
 * free and main `MDB_db` records, 48 bytes each; the page size is the free
 * db's `md_pad` (mdb.c: `#define mm_psize mm_dbs[FREE_DBI].md_pad`). Then
 * the last page number in use and the txnid that wrote the meta. Fields
 * are in the host's byte order.
 */
const META = {
  magic: 24,
  version: 28,
  pageSize: 48,
  lastPage: 144,
  txnid: 152,
  end: 160,
} as const;
const MAGIC = 0xbeefc0de;
/** MDB_DATA_VERSION; mdb.c compares only the low 16 bits of the field. */
const DATA_VERSION = 2;
/** mdb.c's MAX_PAGESIZE; LMDB's pages are the OS's, a power of two no smaller than 512 bytes. */
const MIN_PAGE_SIZE = 512;
const MAX_PAGE_SIZE = 0x10000;
const LITTLE_ENDIAN = os.endianness() === 'LE';

interface Meta {
  /** Has LMDB's magic and data version. */
  readonly valid: boolean;
  readonly pageSize: number;
  readonly lastPage: bigint;
  readonly txnid: bigint;
}

/**
 * Refuses, with `CorruptMemoryFileError`, a `data.mdb` in `dir` that LMDB
 * would crash the process on (SIGSEGV or SIGBUS on open, no exception):
 * shorter than its two meta pages, a first meta page without LMDB's magic
 * and data version (LMDB reads the page size there and trusts it: a zeroed
 * first page alone crashes it, where a damaged second one does not), or a
 * file shorter than the pages its newest valid meta says are in use. A
 * missing or empty file is a new memory, for LMDB to create. Reads two
 * metas; writes nothing.
 *
 * Another process committing to the same memory can show, for a moment, a
 * newest meta ahead of the file's length (seen with 6 processes opening
 * one directory at once), so a shortfall only counts once it has lasted
 * `SETTLE_MS` under the same txnid: a live writer has by then extended
 * the file or committed again, and a truncated file has not changed.
 */
export function checkDataFile(dir: string): void {
  const file = path.join(dir, 'data.mdb');
  let shortfall = readShortfall(file);
  for (let waited = 0; shortfall !== undefined && waited < SETTLE_MS; waited += SETTLE_STEP_MS) {
    Atomics.wait(SLEEPER, 0, 0, SETTLE_STEP_MS);
    const again = readShortfall(file);
    shortfall = again?.txnid === shortfall.txnid ? again : undefined;
  }
  if (shortfall !== undefined) {
    throw new CorruptMemoryFileError(file, `${shortfall.size} bytes, truncated: its newest meta page (txn ${shortfall.txnid}) uses ${shortfall.needed} bytes`);
  }
}

const SETTLE_MS = 500;
const SETTLE_STEP_MS = 10;
/** Atomics.wait blocks the thread without a busy loop; openDatabases is synchronous, so this wait must be too. */
const SLEEPER = new Int32Array(new SharedArrayBuffer(4));

interface Shortfall {
  readonly size: number;
  readonly txnid: bigint;
  readonly needed: bigint;
}

/** Throws for what no writer can explain; returns the newest meta's unmet length, if any. */
function readShortfall(file: string): Shortfall | undefined {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    const size = fs.fstatSync(fd).size;
    if (size === 0) return undefined;
    const first = readMeta(fd, 0);
    if (first === undefined) throw new CorruptMemoryFileError(file, `${size} bytes, shorter than an LMDB meta page`);
    if (!first.valid) throw new CorruptMemoryFileError(file, 'its first page is not an LMDB meta page (no magic or unknown data version)');
    const { pageSize } = first;
    if (!isPageSize(pageSize)) throw new CorruptMemoryFileError(file, `its meta page gives an impossible page size of ${pageSize} bytes`);
    if (size < 2 * pageSize) throw new CorruptMemoryFileError(file, `${size} bytes, shorter than its two ${pageSize}-byte meta pages`);
    const second = readMeta(fd, pageSize) as Meta;
    const newest = second.valid && second.txnid > first.txnid ? second : first;
    const needed = (newest.lastPage + 1n) * BigInt(pageSize);
    return BigInt(size) < needed ? { size, txnid: newest.txnid, needed } : undefined;
  } finally {
    fs.closeSync(fd);
  }
}

function readMeta(fd: number, offset: number): Meta | undefined {
  const bytes = Buffer.alloc(META.end);
  if (fs.readSync(fd, bytes, 0, META.end, offset) < META.end) return undefined;
  const u32 = (at: number): number => (LITTLE_ENDIAN ? bytes.readUInt32LE(at) : bytes.readUInt32BE(at));
  const u64 = (at: number): bigint => (LITTLE_ENDIAN ? bytes.readBigUInt64LE(at) : bytes.readBigUInt64BE(at));
  return {
    valid: u32(META.magic) === MAGIC && (u32(META.version) & 0xffff) === DATA_VERSION,
    pageSize: u32(META.pageSize),
    lastPage: u64(META.lastPage),
    txnid: u64(META.txnid),
  };
}

function isPageSize(value: number): boolean {
  return value >= MIN_PAGE_SIZE && value <= MAX_PAGE_SIZE && (value & (value - 1)) === 0;
}
