import fs from 'node:fs';
import path from 'node:path';
import { open } from 'lmdb';
import type { MemoryFormat, MetaKey } from './databases.js';
import { checkDataFile } from './data-file.js';
import { NotAPatternMemoryError } from './errors.js';

/** What a memory directory holds, read without opening it as a memory. */
export interface MemoryFormatInfo extends MemoryFormat {
  /** How many patterns it holds. */
  readonly patterns: number;
  /** The sequence number of its newest journal event. */
  readonly lastSeq: number;
  /** Journal events up to here were compacted away. */
  readonly compactedThrough: number;
  /** How many ids the exemplar buffer names. */
  readonly exemplars: number;
}

/**
 * Reads the format a pattern memory was created with (`openPatternMemory`
 * must be given the same dimensions and feature space) and its counters,
 * from the meta database, in a read-only LMDB environment: nothing is
 * created or changed, even when `dir` holds something else. Refuses with
 * `NotAPatternMemoryError` a directory with no LMDB environment, or one
 * whose environment holds no pattern memory, and with
 * `CorruptMemoryFileError` a damaged data.mdb (see `checkDataFile`); any
 * other environment LMDB cannot open throws what LMDB throws.
 */
export async function readMemoryFormat(dir: string): Promise<MemoryFormatInfo> {
  if (!fs.existsSync(path.join(dir, 'data.mdb'))) throw new NotAPatternMemoryError(dir, 'holds no pattern memory (no data.mdb)');
  checkDataFile(dir);
  const root = open({ path: dir, maxDbs: 8, noSubdir: false, readOnly: true });
  try {
    // A read-only environment cannot create the meta database, so one that is not there reads as absent.
    let meta;
    try {
      meta = root.openDB<unknown, MetaKey>({ name: 'meta' });
    } catch {
      meta = undefined;
    }
    const format = meta?.get('format') as MemoryFormat | undefined;
    if (meta === undefined || format === undefined || typeof format.dimensions !== 'number' || typeof format.featureSpaceId !== 'string') {
      throw new NotAPatternMemoryError(dir, 'is an LMDB environment but not a pattern memory (it has no format record)');
    }
    return {
      formatVersion: format.formatVersion,
      dimensions: format.dimensions,
      featureSpaceId: format.featureSpaceId,
      recencyHalfLifeMs: format.recencyHalfLifeMs,
      patterns: meta.get('count') as number,
      lastSeq: meta.get('seq') as number,
      compactedThrough: meta.get('compactedThrough') as number,
      exemplars: ((meta.get('exemplars') as readonly string[] | undefined) ?? []).length,
    };
  } finally {
    await root.close();
  }
}
