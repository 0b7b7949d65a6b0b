import fs from 'node:fs';
import { SwarmbankError } from '../errors.js';

/** A config file that cannot be read, is not JSON, or does not fit the command. */
export class ConfigFileError extends SwarmbankError {
  constructor(
    readonly file: string,
    message: string,
  ) {
    super('CONFIG_FILE', `config file ${file}: ${message}`);
  }
}

/** The JSON object in `file`; what its keys mean is for the config's own validation to say. */
export function readConfigFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigFileError(file, `cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ConfigFileError(file, `is not JSON (${(error as Error).message})`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new ConfigFileError(file, 'must hold a JSON object');
  return parsed as Record<string, unknown>;
}
