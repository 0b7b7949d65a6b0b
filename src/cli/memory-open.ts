import fs from 'node:fs';
import path from 'node:path';
import { SwarmbankError } from '../errors.js';
import { CorruptMemoryFileError, NotAPatternMemoryError } from '../memory/errors.js';
import { readMemoryFormat as readFormat, type MemoryFormatInfo } from '../memory/format.js';
import { openPatternMemory, type PatternMemory } from '../memory/store.js';

/** A `--data` or `--into` directory that is missing, or does not hold what the command needs. */
export class MemoryDirectoryError extends SwarmbankError {
  constructor(
    readonly dir: string,
    message: string,
  ) {
    super('MEMORY_DIRECTORY', `${dir}: ${message}`);
  }
}


/**
 * The format a pattern memory was created with (memory/format.ts, which
 * opens it read-only): `openPatternMemory` must be given the same
 * dimensions and feature space. Refuses, with a `MemoryDirectoryError`
 * naming the problem, a path that is missing, not a directory, holds no LMDB
 * environment, a damaged one, or one that is not a pattern memory.
 */
export async function readMemoryFormat(dir: string): Promise<MemoryFormatInfo> {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(dir);
  } catch {
    throw new MemoryDirectoryError(dir, 'does not exist');
  }
  if (!stat.isDirectory()) throw new MemoryDirectoryError(dir, 'is not a directory');
  // A deployment's actor journal is an LMDB environment too: say where the memories are instead.
  if (path.basename(path.resolve(dir)) === 'journal' && fs.existsSync(path.join(dir, '..', 'agents'))) {
    throw new MemoryDirectoryError(dir, `is a deployment's actor journal, not a pattern memory; the memories are under ${path.join(dir, '..', 'agents')}`);
  }
  if (!fs.existsSync(path.join(dir, 'data.mdb'))) {
    const agents = path.join(dir, 'agents');
    const ids = fs.existsSync(agents) ? fs.readdirSync(agents).filter((id) => fs.existsSync(path.join(agents, id, 'data.mdb'))) : [];
    if (ids.length > 0) {
      throw new MemoryDirectoryError(dir, `is a deployment data directory, not one memory; pick an agent's: --data ${path.join(agents, ids[0]!)} (agents: ${ids.join(', ')})`);
    }
    throw new MemoryDirectoryError(dir, 'holds no pattern memory (no data.mdb)');
  }
  try {
    return await readFormat(dir);
  } catch (error) {
    if (error instanceof NotAPatternMemoryError) throw new MemoryDirectoryError(dir, error.reason);
    if (error instanceof CorruptMemoryFileError) throw new MemoryDirectoryError(dir, `holds a damaged pattern memory (data.mdb: ${error.reason})`);
    throw new MemoryDirectoryError(dir, `cannot be opened as a pattern memory (${error instanceof Error ? error.message : String(error)})`);
  }
}

/** Opens an existing pattern memory with the dimensions and feature space it was created with, unbounded, without a read cache. */
export async function openExistingMemory(dir: string): Promise<PatternMemory> {
  const format = await readMemoryFormat(dir);
  return openPatternMemory({ path: dir, dimensions: format.dimensions, featureSpaceId: format.featureSpaceId, cacheSize: 0 });
}

export async function withMemory<T>(dir: string, use: (memory: PatternMemory) => T | Promise<T>): Promise<T> {
  const memory = await openExistingMemory(dir);
  try {
    return await use(memory);
  } finally {
    await memory.close();
  }
}
