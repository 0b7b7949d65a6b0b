import { afterEach, describe, expect, it } from 'vitest';
import { ask, createRuntime, dispatch, stateless, type ActorRef, type Runtime } from '../../src/index.js';
import { flush } from '../../src/testkit/index.js';

interface Question {
  readonly replyTo: ActorRef<number>;
}

const runtimes: Runtime[] = [];
function runtime(batchSize: number): Runtime {
  const rt = createRuntime({ batchSize });
  runtimes.push(rt);
  return rt;
}
afterEach(async () => {
  await Promise.all(runtimes.splice(0).map((rt) => rt.stop()));
});

const echo = stateless((message: Question) => dispatch(message.replyTo, 1));
const question = (replyTo: ActorRef<number>): Question => ({ replyTo });

describe('dispatcher', () => {
  it('answers asks from outside any actor without an event-loop turn each, while the batch budget lasts', async () => {
    const rt = runtime(8);
    const ref = rt.spawn(rt.root, echo, { name: 'echo' });
    let ioRan = false;
    setImmediate(() => (ioRan = true));
    for (let i = 0; i < 7; i++) await ask(ref, question, 1_000);
    expect(ioRan).toBe(false);
  });

  it('yields to I/O once a batch budget of messages from outside has run without a yield', async () => {
    const rt = runtime(8);
    const ref = rt.spawn(rt.root, echo, { name: 'echo' });
    let ioRan = false;
    setImmediate(() => (ioRan = true));
    for (let i = 0; i < 9; i++) await ask(ref, question, 1_000);
    expect(ioRan).toBe(true);
  });

  it('gives an actor its next turn when the turn it asked for came before its async message had settled', async () => {
    const rt = runtime(2);
    const seen: number[] = [];
    const ref = rt.spawn(
      rt.root,
      stateless(async (n: number) => {
        await null;
        seen.push(n);
      }),
      { name: 'async' },
    );
    for (let i = 0; i < 5; i++) dispatch(ref, i);
    for (let turn = 0; turn < 20 && seen.length < 5; turn++) await flush(1);
    expect(seen).toEqual([0, 1, 2, 3, 4]);
  });

  it('yields to I/O between batches of messages that actors send each other', async () => {
    const rt = runtime(64);
    let bounces = 0;
    const bouncer: ActorRef<number> = rt.spawn(
      rt.root,
      stateless((n: number) => {
        bounces++;
        dispatch(bouncer, n + 1);
      }),
      { name: 'bouncer' },
    );
    dispatch(bouncer, 0);
    await new Promise((resolve) => setImmediate(resolve));
    const seenByIo = bounces;
    expect(seenByIo).toBeGreaterThan(0);
    expect(seenByIo).toBeLessThanOrEqual(64 * 2);
    await rt.stop(bouncer);
  });
});
