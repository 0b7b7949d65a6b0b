import { afterEach, describe, expect, it } from 'vitest';
import { ask, dispatch } from '../../src/actors/ask.js';
import type { RuntimeEvent } from '../../src/actors/events.js';
import type { ActorRef } from '../../src/actors/ref.js';
import { createRuntime, type Runtime } from '../../src/actors/runtime.js';
import { controlBehaviour } from '../../src/topologies/cluster-node.js';
import { until } from '../net/support.js';

type Msg =
  | { readonly type: 'slow'; readonly replyTo: ActorRef<string> }
  | { readonly type: 'quick'; readonly replyTo: ActorRef<string> }
  | { readonly type: 'fail' };

const runtimes: Runtime[] = [];

afterEach(async () => {
  await Promise.all(runtimes.splice(0).map((runtime) => runtime.stop()));
});

/** A control actor whose `slow` answer waits for `release`, whose `fail` answer rejects, and whose `quick` answer is immediate. */
function control(): { readonly ref: ActorRef<Msg>; readonly release: () => void; readonly events: RuntimeEvent[] } {
  const runtime = createRuntime({ name: 'control-test' });
  runtimes.push(runtime);
  const events: RuntimeEvent[] = [];
  runtime.events.subscribe((event) => events.push(event));
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const ref = runtime.spawn(
    runtime.root,
    controlBehaviour<Msg>(async (message) => {
      if (message?.type === 'slow') {
        await gate;
        dispatch(message.replyTo, 'slow');
      } else if (message?.type === 'quick') dispatch(message.replyTo, 'quick');
      else if (message?.type === 'fail') throw new Error('the answer failed');
    }),
    { name: 'control' },
  );
  return { ref, release, events };
}

describe("a node's control actor", () => {
  it('answers a quick message while a slow one it took first is still being answered', async () => {
    const { ref, release } = control();
    let slowAnswered = false;
    const slow = ask(ref, (replyTo) => ({ type: 'slow', replyTo }), 5_000).finally(() => (slowAnswered = true));
    await expect(ask(ref, (replyTo) => ({ type: 'quick', replyTo }), 1_000)).resolves.toBe('quick');
    expect(slowAnswered).toBe(false);
    release();
    await expect(slow).resolves.toBe('slow');
  });

  it('fails on an answer that failed, so its supervisor sees the error, and answers on after its restart', async () => {
    const { ref, events } = control();
    dispatch(ref, { type: 'fail' });
    await until('the control actor restarted', () => events.some((e) => e.type === 'restarted'), 2_000);
    const crashed = events.filter((e): e is Extract<RuntimeEvent, { type: 'crashed' }> => e.type === 'crashed');
    expect(crashed.map((e) => [e.path, e.error.message])).toEqual([['/control', 'the answer failed']]);
    expect(events.some((e) => e.type === 'restarted'), 'restarted').toBe(true);
    await expect(ask(ref, (replyTo) => ({ type: 'quick', replyTo }), 1_000)).resolves.toBe('quick');
  });

  it('takes a malformed message (a peer may send anything) without crashing', async () => {
    const { ref, events } = control();
    dispatch(ref as ActorRef<unknown>, 42);
    dispatch(ref as ActorRef<unknown>, null);
    await expect(ask(ref, (replyTo) => ({ type: 'quick', replyTo }), 1_000)).resolves.toBe('quick');
    expect(events.filter((e) => e.type === 'crashed')).toEqual([]);
  });
});
