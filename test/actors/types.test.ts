import { describe, expectTypeOf, it } from 'vitest';
import { ask, createRuntime, dispatch, stateful, stateless, type ActorRef, type EventOf, type Terminated } from '../../src/index.js';

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

  it('infer the precise reply of the request built, from an unannotated replyTo, when requests reply with different types', () => {
    type Store =
      | { readonly type: 'size'; readonly replyTo: ActorRef<number> }
      | { readonly type: 'name'; readonly replyTo: ActorRef<string> }
      | { readonly type: 'keys'; readonly prefix: readonly string[]; readonly replyTo: ActorRef<readonly string[]> }
      /** A request whose reply ref is optional: it may be told, or asked. */
      | { readonly type: 'flush'; readonly replyTo?: ActorRef<boolean> }
      | { readonly type: 'put'; readonly key: string };
    // Only the compiler reads these: the functions are type-checked, never called.
    const store = {} as ActorRef<Store>;
    expectTypeOf(() => ask(store, (replyTo) => ({ type: 'size', replyTo }), 1)).returns.toEqualTypeOf<Promise<number>>();
    expectTypeOf(() => ask(store, (replyTo) => ({ type: 'name', replyTo }), 1)).returns.toEqualTypeOf<Promise<string>>();
    expectTypeOf(() => ask(store, (replyTo) => ({ type: 'keys', prefix: ['a'], replyTo }), 1)).returns.toEqualTypeOf<Promise<readonly string[]>>();
    // Its reply is not among the other requests' replies: it used to be refused.
    expectTypeOf(() => ask(store, (replyTo) => ({ type: 'flush', replyTo }), 1)).returns.toEqualTypeOf<Promise<boolean>>();
    expectTypeOf(() => ask(store, (replyTo) => {
      return { type: 'size', replyTo };
    }, 1)).returns.toEqualTypeOf<Promise<number>>();
    // Annotated, as before.
    expectTypeOf(() => ask(store, (replyTo: ActorRef<string>) => ({ type: 'name', replyTo }), 1)).returns.toEqualTypeOf<Promise<string>>();
    // A message that carries no reply ref gets no reply.
    expectTypeOf(() => ask(store, () => ({ type: 'put', key: 'k' }), 1)).returns.toEqualTypeOf<Promise<never>>();
    expectTypeOf(() => {
      // @ts-expect-error a request the actor does not handle
      void ask(store, (replyTo) => ({ type: 'length', replyTo }), 1);
      // @ts-expect-error a size replies with a number, not a string
      void ask(store, (replyTo: ActorRef<string>) => ({ type: 'size', replyTo }), 1);
      // @ts-expect-error the requests' fields are checked too
      void ask(store, (replyTo) => ({ type: 'keys', prefix: 'a', replyTo }), 1);
    }).toBeFunction();
  });

  it('take the reply type from the annotation for a reply ref not named replyTo, or a make generic in its reply', () => {
    type Timed = { readonly type: 'now'; readonly respondTo: ActorRef<Date> };
    const clock = {} as ActorRef<Timed>;
    expectTypeOf(() => ask(clock, (respondTo: ActorRef<Date>) => ({ type: 'now', respondTo }), 1)).returns.toEqualTypeOf<Promise<Date>>();
    expectTypeOf(() => {
      // @ts-expect-error only a field named replyTo is found without an annotation
      void ask(clock, (respondTo) => ({ type: 'now', respondTo }), 1);
    }).toBeFunction();
    const requestOf = <Reply>(ref: ActorRef<Query | Greet>, make: (replyTo: ActorRef<Reply>) => Query | Greet) => ask(ref, make, 1);
    expectTypeOf(requestOf<number>).returns.toEqualTypeOf<Promise<number>>();
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

describe('runtime event types', () => {
  it('tell a late failure from a late result on an after-end event by its outcome', () => {
    type AfterEnd = EventOf<'after-end'>;
    expectTypeOf<Extract<AfterEnd, { outcome: 'failed' }>['error']>().toEqualTypeOf<Error>();
    expectTypeOf<Extract<AfterEnd, { outcome: 'succeeded' }>>().not.toHaveProperty('error');
    expectTypeOf<AfterEnd['incarnation']>().toEqualTypeOf<number>();
  });
});
