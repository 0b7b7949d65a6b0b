import { InvalidArgumentError } from 'commander';
import { isSeed, MAX_SEED, MIN_SEED } from '../random.js';

/** Parsers for commander options: each refuses a bad value with a message commander prints beside the flag. */

/** A seed `createRandom` accepts: checked at the flag, so the message names the flag rather than a step deep in the run. */
export function seed(value: string): number {
  const parsed = Number(value);
  if (value.trim() === '' || !isSeed(parsed)) throw new InvalidArgumentError(`expected an integer from ${MIN_SEED} to ${MAX_SEED}, got "${value}"`);
  return parsed;
}

export function positiveInteger(value: string): number {
  const parsed = Number(value);
  if (value.trim() === '' || !Number.isSafeInteger(parsed) || parsed < 1) throw new InvalidArgumentError(`expected a positive integer, got "${value}"`);
  return parsed;
}

export function nonNegativeInteger(value: string): number {
  const parsed = Number(value);
  if (value.trim() === '' || !Number.isSafeInteger(parsed) || parsed < 0) throw new InvalidArgumentError(`expected a non-negative integer, got "${value}"`);
  return parsed;
}

export function nonNegativeNumber(value: string): number {
  const parsed = Number(value);
  if (value.trim() === '' || !Number.isFinite(parsed) || parsed < 0) throw new InvalidArgumentError(`expected a number ≥ 0, got "${value}"`);
  return parsed;
}
