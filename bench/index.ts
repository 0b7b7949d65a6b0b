import { existsSync } from 'node:fs';

/**
 * `npm run bench -- <suite> [args]`. Suites are loaded by file so that one
 * whose file is not there yet is simply not offered, and so a suite's
 * dependencies load only when it runs.
 */

type Suite = (args: readonly string[]) => Promise<void>;

/** A suite is one or more files run in order, each exporting `run(args)`. */
const SUITES: Readonly<Record<string, readonly string[]>> = {
  actors: ['./actors.ts'],
  memory: ['./memory-store.ts', './memory-search.ts', './memory-reopen.ts'],
  'memory-store': ['./memory-store.ts'],
  learning: ['./learning.ts'],
  topologies: ['./topologies.ts'],
  net: ['./net.ts', './net-sync.ts'],
};

function filesOf(name: string): URL[] {
  const files = Object.hasOwn(SUITES, name) ? SUITES[name] ?? [] : [];
  return files.map((file) => new URL(file, import.meta.url)).filter((url) => existsSync(url));
}

async function main(): Promise<void> {
  const [name = '', ...args] = process.argv.slice(2);
  const urls = filesOf(name);
  if (urls.length === 0) {
    const valid = Object.keys(SUITES).filter((suite) => filesOf(suite).length > 0);
    const problem = name ? `unknown bench "${name}"` : 'no bench named';
    console.error(`${problem}; valid: ${valid.join(', ')} (usage: npm run bench -- <name> [--json])`);
    process.exitCode = 2;
    return;
  }
  for (const url of urls) {
    const suite: unknown = ((await import(url.href)) as { run?: unknown }).run;
    if (typeof suite !== 'function') throw new TypeError(`${url.pathname} does not export run()`);
    await (suite as Suite)(args);
  }
}

await main();
