// `npm test [-- <vitest arguments>]`: the type check, then the test suite.
// A name given with -t is matched literally rather than as a regular
// expression, so `-t "Mesh + Distributed Learning"` selects that describe.
import { spawnSync } from 'node:child_process';
import path from 'node:path';

const bin = (name) => path.join('node_modules', '.bin', name);
const literal = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const args = process.argv.slice(2).map((arg, i, all) => (['-t', '--testNamePattern'].includes(all[i - 1]) ? literal(arg) : arg));

for (const [command, commandArgs] of [
  [bin('tsc'), ['--noEmit']],
  [bin('vitest'), ['run', ...args]],
]) {
  const { status, error } = spawnSync(command, commandArgs, { stdio: 'inherit' });
  if (error) throw error;
  if (status !== 0) process.exit(status ?? 1);
}
