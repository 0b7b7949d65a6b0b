import { EpisodeOptionsError } from '../learning/episode.js';
import { MarketOptionsError } from '../market/errors.js';
import { BundleError } from '../memory/bundle.js';
import { InvalidOptionError } from '../memory/options.js';
import { FeatureDimensionsError } from './errors.js';
import type { AgentRefusal, AgentRefusalCode } from './messages.js';

/**
 * Where bad input ends and failure begins. Each of these errors is thrown
 * before anything is learned or written (the layers below validate first),
 * so the agent can answer with a refusal and carry on. Anything else is a
 * bug, an I/O failure or a memory full of consolidated patterns, none of
 * which the sender can fix, and goes to supervision.
 */
const REFUSALS = [FeatureDimensionsError, EpisodeOptionsError, MarketOptionsError, InvalidOptionError, BundleError];

/** The refusal for `error`, or undefined when it is not bad input. */
export function refusalOf(error: unknown): AgentRefusal | undefined {
  if (!REFUSALS.some((kind) => error instanceof kind)) return undefined;
  const { code, message } = error as Error & { readonly code: AgentRefusalCode };
  return { ok: false, error: { code, message } };
}
