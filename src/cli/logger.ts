import pino from 'pino';
import type { Logger } from '../actors/logging.js';

/**
 * The command's structured log: JSON lines on standard error, so that
 * standard output stays the report (or the JSON metrics). Crashes,
 * restarts and decisions by default; every sync and vote with `--verbose`.
 */
export function cliLogger(verbose: boolean): Logger {
  return pino({ level: verbose ? 'debug' : 'info', base: { name: 'swarmbank' } }, pino.destination({ fd: 2, sync: true }));
}
