import { describe, expect, it } from 'vitest';
import type { JournalEvent } from '../../src/memory/journal.js';
import { createRandom } from '../../src/random.js';
import { exited, forkFixture, isReady, nextMessage, stderrOf } from './children.js';
import { writerInput } from './fixtures/inputs.js';
import { randomInput, useMemoryFixture } from './support.js';

async function collect(events: AsyncIterable<JournalEvent>): Promise<JournalEvent[]> {
  const all: JournalEvent[] = [];
  for await (const event of events) all.push(event);
  return all;
}

describe('pattern memory under concurrent writers', () => {
  const fixture = useMemoryFixture();

  it('keeps every write from 20 concurrent writers in one process (seed 11)', async () => {
    const memory = await fixture.open();
    const random = createRandom(11);
    const perWriter = 150;
    const writers = Array.from({ length: 20 }, async (_, writer) => {
      const agent = random.fork(`writer-${writer}`);
      for (let n = 0; n < perWriter; n++) {
        // Yield between writes the way an agent actor does between messages, so the writers interleave.
        await new Promise<void>((resolve) => setImmediate(resolve));
        await memory.upsert(randomInput(agent, `a${writer}-${n}`));
      }
      for (let n = 0; n < perWriter; n += 10) await memory.upsert({ ...randomInput(agent, `a${writer}-${n}`), support: 0, successes: 0 });
    });
    await Promise.all(writers);

    expect(memory.count()).toBe(20 * perWriter);
    for (let writer = 0; writer < 20; writer++) {
      for (let n = 0; n < perWriter; n++) {
        expect(memory.get(`a${writer}-${n}`)?.version, `a${writer}-${n}`).toBe(n % 10 === 0 ? 2 : 1);
      }
    }
    const events = await collect(memory.replay());
    expect(events.map((e) => e.seq)).toEqual(Array.from({ length: 20 * (perWriter + perWriter / 10) }, (_, i) => i + 1));
    expect(memory.checkIntegrity()).toMatchObject({ ok: true });
  });

  it('keeps every write from 4 processes sharing one memory directory, with unique monotonic sequence numbers', async () => {
    const dir = fixture.dir();
    const perWriter = 400;
    const children = ['0', '1', '2', '3'].map((writer) => forkFixture('concurrent-writer.ts', [dir, writer, String(perWriter)]));
    try {
      await Promise.all(children.map((child) => nextMessage(child, isReady)));
      for (const child of children) child.send('go');
      const exits = await Promise.all(children.map(exited));
      for (const [i, exit] of exits.entries()) {
        expect(exit, stderrOf(children[i]!)).toEqual({ code: 0, signal: null });
        expect(stderrOf(children[i]!)).not.toMatch(/lock|MDB_|busy/i);
      }
    } finally {
      for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    }

    const memory = await fixture.open({ path: dir });
    const rewritten = Math.ceil(perWriter / 10);
    expect(memory.count()).toBe(4 * perWriter);
    for (const writer of ['0', '1', '2', '3']) {
      for (let n = 0; n < perWriter; n++) {
        const revision = n < rewritten ? 2 : 1;
        expect(memory.get(`w${writer}-${n}`), `w${writer}-${n}`).toMatchObject({
          version: revision,
          support: writerInput(writer, n, revision).support,
          origin: `writer-${writer}`,
        });
      }
    }

    const events = await collect(memory.replay());
    expect(events.map((e) => e.seq)).toEqual(Array.from({ length: 4 * (perWriter + rewritten) }, (_, i) => i + 1));
    const writersInOrder = events.map((e) => (e.type === 'upsert' ? e.pattern.origin : ''));
    const switches = writersInOrder.filter((origin, i) => i > 0 && origin !== writersInOrder[i - 1]).length;
    // Four writers writing one after another would switch three times; interleaved commits switch far more.
    expect(switches).toBeGreaterThan(3);
    expect(memory.checkIntegrity()).toMatchObject({ ok: true, patterns: 4 * perWriter });
  });
});
