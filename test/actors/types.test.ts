import { describe, expectTypeOf, it } from 'vitest';
import { ask, createRuntime, dispatch, stateful, stateless, type ActorRef, type Terminated } from '../../src/index.js';

type Greet = { readonly type: 'greet'; readonly name: string };
type Query = { readonly type: 'count'; readonly replyTo: ActorRef<number> };

describe('typed refs', () => {
  it('type a spawned ref by its behaviour message type', async () => {
    const rt = createRuntime();
    const ref = rt.spawn(rt.root, stateless((_: Greet | Query) => undefined), { name: 'typed' });
    expectTypeOf(ref).toEqualTypeOf<ActorRef<Greet | Query>>();
    dispatch(ref, { type: 'greet', name: 'ada' });
    // @ts-expect-error a message the actor does not handle is refused at compile time
    dispatch(ref, { type: 'shout', name: 'ada' });
    // @ts-expect-error a number is not a Greet
    dispatch(ref, 42);
    await rt.stop();
  });

  it('are contravariant: a ref accepting more may stand in for one accepting less, not the reverse', () => {
    expectTypeOf<ActorRef<Greet | Query>>().toMatchTypeOf<ActorRef<Greet>>();
    expectTypeOf<ActorRef<Greet>>().not.toMatchTypeOf<ActorRef<Greet | Query>>();
    expectTypeOf<ActorRef<Greet>>().not.toMatchTypeOf<ActorRef<Query>>();
  });

  it('infer the reply type of an ask from the reply ref', async () => {
    const rt = createRuntime();
    const ref = rt.spawn(
      rt.root,
      stateful<number, Query>({ initialState: 0, receive: (n, m) => (dispatch(m.replyTo, n), n) }),
      { name: 'q' },
    );
    const reply = ask(ref, (replyTo) => ({ type: 'count', replyTo }), 100);
    expectTypeOf(reply).toEqualTypeOf<Promise<number>>();
    // @ts-expect-error the reply ref must match the message's replyTo type
    void ask(ref, (replyTo: ActorRef<string>) => ({ type: 'count', replyTo }), 100).catch(() => undefined);
    await reply;
    await rt.stop();
  });

  it('allow ctx.watch only in actors whose messages include Terminated', () => {
    stateless<Terminated | Greet>({ setup: (ctx) => ctx.watch(ctx.self), receive: () => undefined });
    stateless<Greet>({
      setup: (ctx) => {
        // @ts-expect-error Greet actors cannot receive Terminated; they use watchWith
        ctx.watch(ctx.self);
        ctx.watchWith(ctx.self, { type: 'greet', name: 'self' });
      },
      receive: () => undefined,
    });
  });
});
