/**
 * Every error swarmbank throws on purpose is a SwarmbankError with a stable
 * `code`, so callers branch on the code rather than on message text, and keep
 * the underlying `cause` when there is one.
 */
export class SwarmbankError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.name = new.target.name;
  }
}

/** Normalises anything thrown into an Error, so events and metrics always carry one. */
export function toError(thrown: unknown): Error {
  if (thrown instanceof Error) return thrown;
  return new SwarmbankError('NON_ERROR_THROWN', `non-error value thrown: ${describe(thrown)}`, { cause: thrown });
}

function describe(value: unknown): string {
  try {
    return typeof value === 'string' ? value : JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
