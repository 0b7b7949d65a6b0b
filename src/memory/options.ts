import { SwarmbankError } from '../errors.js';

/** An option passed to a memory maintenance operation (distill, consolidate, export, import) is missing or out of range. */
export class InvalidOptionError extends SwarmbankError {
  constructor(
    readonly operation: string,
    readonly option: string,
    reason: string,
  ) {
    super('INVALID_OPTION', `${operation} option ${option}: ${reason}`);
  }
}

/**
 * Reads options that arrive from JavaScript callers and config files as well
 * as from typed code, so every check takes `unknown` and names the option.
 */
export function optionReader(operation: string) {
  const fail = (option: string, reason: string): never => {
    throw new InvalidOptionError(operation, option, reason);
  };
  return {
    fail,
    /** A number within [min, max]; `minExclusive` turns the lower bound strict. */
    number(option: string, value: unknown, min: number, max: number, minExclusive = false): number {
      const low = minExclusive ? `(${min}` : `[${min}`;
      if (typeof value !== 'number' || !Number.isFinite(value) || value > max || (minExclusive ? value <= min : value < min)) {
        return fail(option, `must be a number within ${low}, ${max}], got ${show(value)}`);
      }
      return value;
    },
    count(option: string, value: unknown): number {
      if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
        return fail(option, `must be a non-negative integer, got ${show(value)}`);
      }
      return value;
    },
    positiveCount(option: string, value: unknown): number {
      if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
        return fail(option, `must be a positive integer, got ${show(value)}`);
      }
      return value;
    },
    strings(option: string, value: unknown): readonly string[] {
      if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) return fail(option, 'must be an array of strings');
      return value as string[];
    },
    /** Refuses keys the operation does not know, so a misspelt option is an error rather than silently ignored. */
    only(value: unknown, known: readonly string[], nested?: string): Record<string, unknown> {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) return fail(nested ?? 'options', `must be an object, got ${show(value)}`);
      for (const key of Object.keys(value)) {
        if (!known.includes(key)) fail(nested === undefined ? key : `${nested}.${key}`, `is not an option (expected ${known.join(', ')})`);
      }
      return value as Record<string, unknown>;
    },
  };
}

function show(value: unknown): string {
  if (typeof value === 'number' || typeof value === 'boolean' || value === undefined || value === null) return String(value);
  if (typeof value === 'string') return JSON.stringify(value);
  return Array.isArray(value) ? 'an array' : typeof value;
}
