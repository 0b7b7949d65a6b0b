import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MarketOptionsError } from '../../src/market/errors.js';
import { simulateMarket } from '../../src/market/simulator.js';
import { SeedError } from '../../src/random.js';
import { deploy } from '../../src/topologies/deploy.js';

const failing = vi.hoisted(() => ({ swarm: false }));

// A failure after the journal and the runtime are open: nothing a caller can pass reaches one there.
vi.mock('../../src/topologies/swarm.js', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../../src/topologies/swarm.js')>();
  class Swarm extends actual.Swarm {
    constructor(...args: ConstructorParameters<typeof actual.Swarm>) {
      super(...args);
      if (failing.swarm) throw new Error('swarm could not start');
    }
  }
  return { ...actual, Swarm };
});

const ring = { topology: 'ring', agentCount: 2 } as const;
const shortBars = simulateMarket({ seed: 1, length: 30 }).assets[0]!.bars;

let tmp: string;
let savedTmpdir: string | undefined;
beforeEach(() => {
  // Deployments make their temporary directory under os.tmpdir(): a directory of this test's own shows what they leave.
  savedTmpdir = process.env.TMPDIR;
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'swarmbank-setup-test-'));
  process.env.TMPDIR = tmp;
});
afterEach(() => {
  failing.swarm = false;
  if (savedTmpdir === undefined) delete process.env.TMPDIR;
  else process.env.TMPDIR = savedTmpdir;
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** Files under `dir` this process still holds open (Linux; elsewhere none can be seen). */
function openFilesUnder(dir: string): string[] {
  if (process.platform !== 'linux') return [];
  const held: string[] = [];
  for (const fd of fs.readdirSync('/proc/self/fd')) {
    try {
      const target = fs.readlinkSync(path.join('/proc/self/fd', fd));
      if (target.startsWith(dir + path.sep)) held.push(target);
    } catch {
      // The descriptor closed between listing and reading it.
    }
  }
  return held;
}

describe('deployment setup', () => {
  it('leaves no directory and no open file behind when the market is too short for its episodes', () => {
    expect(() => deploy(ring, { market: { bars: shortBars }, maxEpisodes: 2 })).toThrow(MarketOptionsError);
    expect(fs.readdirSync(tmp)).toEqual([]);
    expect(openFilesUnder(tmp)).toEqual([]);
  });

  it('refuses a seed out of range before creating anything', () => {
    expect(() => deploy(ring, { seed: 2 ** 32 })).toThrow(SeedError);
    expect(fs.readdirSync(tmp)).toEqual([]);
  });

  it('closes the journal and the runtime it opened and removes its temporary directory when a later step fails', async () => {
    failing.swarm = true;
    expect(() => deploy(ring, { maxEpisodes: 1, market: { evalEpisodes: 1 } })).toThrow('swarm could not start');
    await vi.waitFor(() => expect(fs.readdirSync(tmp)).toEqual([]));
    expect(openFilesUnder(tmp)).toEqual([]);
  });

  it('keeps a data directory the caller gave when a later step fails, closing what it opened there', async () => {
    const dataDir = path.join(tmp, 'mine');
    fs.mkdirSync(dataDir);
    fs.writeFileSync(path.join(dataDir, 'notes.txt'), 'kept');
    failing.swarm = true;
    expect(() => deploy(ring, { dataDir, maxEpisodes: 1, market: { evalEpisodes: 1 } })).toThrow('swarm could not start');
    await vi.waitFor(() => expect(openFilesUnder(tmp)).toEqual([]));
    expect(fs.readFileSync(path.join(dataDir, 'notes.txt'), 'utf8')).toBe('kept');
  });
});
