import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { afterEach, describe, expect, it } from 'vitest';
import { nodeCommand } from '../../src/cli/node.js';
import { ClusterSecretError } from '../../src/net/handshake.js';
import { ConfigFileError } from '../../src/cli/config-file.js';

const dirs: string[] = [];

afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'swarmbank-cli-node-'));
  dirs.push(dir);
  return dir;
}

/** Runs `swarmbank node` in this process; `stop` resolves once the node printed `listening`. */
function runNode(args: readonly string[]): { readonly lines: Record<string, unknown>[]; readonly done: Promise<void> } {
  const lines: Record<string, unknown>[] = [];
  let stop: (signal: string) => void = () => undefined;
  const stopped = new Promise<string>((resolve) => {
    stop = resolve;
  });
  const program = new Command('swarmbank').exitOverride().configureOutput({ writeErr: () => undefined });
  program.addCommand(
    nodeCommand({
      write: (text) => {
        for (const line of text.trim().split('\n')) {
          const event = JSON.parse(line) as Record<string, unknown>;
          lines.push(event);
          if (event['event'] === 'listening') stop('SIGINT');
        }
      },
      until: () => stopped,
    }).copyInheritedSettings(program),
  );
  return { lines, done: program.parseAsync(['node', 'swarmbank', 'node', ...args]).then(() => undefined) };
}

describe('swarmbank node', () => {
  it('listens on a free port, prints its certificate hash as JSON lines, and stops cleanly on a signal', async () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'secret'), 'a-cluster-secret-of-enough-bytes\n');
    const { lines, done } = runNode(['--id', 'solo', '--listen', '127.0.0.1:0', '--secret-file', path.join(dir, 'secret'), '--data', path.join(dir, 'data'), '--protocol', 'http2', '--json']);
    await done;
    const listening = lines.find((l) => l['event'] === 'listening');
    expect(listening).toMatchObject({ node: 'solo', host: '127.0.0.1', protocol: 'webtransport-http2' });
    expect(listening?.['port']).toBeGreaterThan(0);
    expect(listening?.['certificateHash']).toMatch(/^[0-9a-f]{64}$/);
    expect(lines.at(-1)).toEqual({ event: 'stopped', node: 'solo' });
    // The agents' memories and the journal were flushed to --data.
    expect(fs.readdirSync(path.join(dir, 'data', 'agents')).sort()).toEqual(['solo-agent-1', 'solo-agent-2']);
  });

  it('refuses a secret shorter than 16 bytes, and a secret file it cannot read, before starting anything', async () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'short'), 'too-short\n');
    const data = path.join(dir, 'data');
    await expect(runNode(['--id', 'a', '--listen', '127.0.0.1:0', '--secret-file', path.join(dir, 'short'), '--data', data]).done).rejects.toThrow(ClusterSecretError);
    await expect(runNode(['--id', 'a', '--listen', '127.0.0.1:0', '--secret-file', path.join(dir, 'missing'), '--data', data]).done).rejects.toThrow(ConfigFileError);
    expect(fs.existsSync(data)).toBe(false);
  });

  it('runs a hierarchy\'s node in the role it is given, and refuses a hierarchy without --role or a mesh with one', async () => {
    const dir = tempDir();
    const secret = path.join(dir, 'secret');
    fs.writeFileSync(secret, 'a-cluster-secret-of-enough-bytes');
    const hierarchical = path.join(dir, 'hierarchical.json');
    fs.writeFileSync(hierarchical, JSON.stringify({ topology: 'hierarchical', workers: { count: 4 }, standby: true }));
    const base = ['--listen', '127.0.0.1:0', '--secret-file', secret, '--protocol', 'http2', '--json'];

    const leader = runNode(['--id', 'lead', ...base, '--data', path.join(dir, 'lead'), '--config', hierarchical, '--role', 'leader']);
    await leader.done;
    expect(leader.lines.at(-1)).toEqual({ event: 'stopped', node: 'lead' });
    expect(fs.readdirSync(path.join(dir, 'lead', 'agents'))).toEqual(['leader']);
    const worker = runNode(['--id', 'w', ...base, '--data', path.join(dir, 'w'), '--config', hierarchical, '--role', 'worker']);
    await worker.done;
    expect(fs.readdirSync(path.join(dir, 'w', 'agents')).sort()).toEqual(['w-worker-1', 'w-worker-2']);

    await expect(runNode(['--id', 'x', ...base, '--data', path.join(dir, 'x'), '--config', hierarchical]).done).rejects.toMatchObject({ code: 'NODE_CONFIG_INVALID', key: 'role' });
    await expect(runNode(['--id', 'x', ...base, '--data', path.join(dir, 'x'), '--role', 'leader']).done).rejects.toMatchObject({ code: 'NODE_CONFIG_INVALID', key: 'role' });
    await expect(runNode(['--id', 'x', ...base, '--data', path.join(dir, 'x'), '--config', hierarchical, '--role', 'boss']).done).rejects.toMatchObject({ code: 'commander.invalidArgument' });
    expect(fs.existsSync(path.join(dir, 'x'))).toBe(false);
  });

  it('refuses a malformed --listen or --protocol as a usage error', async () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'secret'), 'a-cluster-secret-of-enough-bytes');
    const base = ['--id', 'a', '--secret-file', path.join(dir, 'secret'), '--data', path.join(dir, 'data')];
    await expect(runNode([...base, '--listen', 'localhost']).done).rejects.toMatchObject({ code: 'commander.invalidArgument' });
    await expect(runNode([...base, '--listen', '127.0.0.1:0', '--protocol', 'udp']).done).rejects.toMatchObject({ code: 'commander.invalidArgument' });
  });

  it('refuses, as a usage error naming the flag, a --heartbeat-ms, --failure-timeout-ms or --anti-entropy-ms above 2^31 − 1 ms, before starting anything', async () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'secret'), 'a-cluster-secret-of-enough-bytes');
    const data = path.join(dir, 'data');
    const base = ['--id', 'a', '--listen', '127.0.0.1:0', '--secret-file', path.join(dir, 'secret'), '--data', data, '--protocol', 'http2', '--json'];
    for (const flag of ['--heartbeat-ms', '--failure-timeout-ms', '--anti-entropy-ms']) {
      const refused = runNode([...base, flag, '3000000000']).done;
      await expect(refused, flag).rejects.toMatchObject({ code: 'commander.invalidArgument', message: expect.stringContaining(`'${flag} <ms>'`) });
      await expect(refused, flag).rejects.toThrow(/at most 2147483647 ms/);
    }
    expect(fs.existsSync(data)).toBe(false);
  });
});
