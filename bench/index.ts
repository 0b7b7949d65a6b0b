import { existsSync } from 'node:fs';

/**
 * `npm run bench -- <suite> [args]`. Suites are loaded by file so that one
 * whose file is not there yet is simply not offered, and so a suite's
 * dependencies load only when it runs.
 */

type Suite = (args: readonly string[]) => Promise<void>;

const SUITES: Readonly<Record<string, string>> = {
  actors: './actors.ts',
  memory: './memory-search.ts',
};

function fileOf(name: string): URL | undefined {
  const file = Object.hasOwn(SUITES, name) ? SUITES[name] : undefined;
  if (file === undefined) return undefined;
  const url = new URL(file, import.meta.url);
  return existsSync(url) ? url : undefined;
}

async function main(): Promise<void> {
  const [name = '', ...args] = process.argv.slice(2);
  const url = fileOf(name);
  if (!url) {
    const valid = Object.keys(SUITES).filter((suite) => fileOf(suite) !== undefined);
    const problem = name ? `unknown bench "${name}"` : 'no bench named';
    console.error(`${problem}; valid: ${valid.join(', ')} (usage: npm run bench -- <name> [--json])`);
    process.exitCode = 2;
    return;
  }
  const suite: unknown = ((await import(url.href)) as { run?: unknown }).run;
  if (typeof suite !== 'function') throw new TypeError(`${url.pathname} does not export run()`);
  await (suite as Suite)(args);
}

await main();
