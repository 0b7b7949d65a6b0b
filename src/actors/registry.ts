import type { ActorRef, AnyActorRef } from './ref.js';

declare const servesMessage: unique symbol;

/** A typed key under which actors offering one service register, as Akka's receptionist keys. */
export interface ServiceKey<Msg> {
  readonly id: string;
  readonly [servesMessage]?: (message: Msg) => void;
}

export function serviceKey<Msg>(id: string): ServiceKey<Msg> {
  if (!id) throw new TypeError('a service key needs a non-empty id');
  return { id };
}

export type ListingListener<Msg> = (refs: readonly ActorRef<Msg>[]) => void;

/**
 * The receptionist: actors register under keys, others look them up or
 * subscribe to changes. Topologies use it for discovery. An actor that stops
 * is removed from every key it was registered under.
 */
export class Registry {
  private readonly listings = new Map<string, AnyActorRef[]>();
  private readonly subscribers = new Map<string, Set<ListingListener<never>>>();

  register<Msg>(key: ServiceKey<Msg>, ref: ActorRef<Msg>): void {
    const refs = this.listings.get(key.id) ?? [];
    if (refs.includes(ref)) return;
    this.listings.set(key.id, [...refs, ref]);
    this.notify(key.id);
  }

  deregister<Msg>(key: ServiceKey<Msg>, ref: ActorRef<Msg>): void {
    const refs = this.listings.get(key.id);
    if (!refs?.includes(ref)) return;
    this.listings.set(key.id, refs.filter((r) => r !== ref));
    this.notify(key.id);
  }

  lookup<Msg>(key: ServiceKey<Msg>): readonly ActorRef<Msg>[] {
    // The key's type parameter is what makes this sound: only ActorRef<Msg> is ever registered under it.
    return (this.listings.get(key.id) ?? []) as readonly ActorRef<never>[] as readonly ActorRef<Msg>[];
  }

  /** Calls `listener` with the current listing now and after every change, until unsubscribed. */
  subscribe<Msg>(key: ServiceKey<Msg>, listener: ListingListener<Msg>): () => void {
    const set = this.subscribers.get(key.id) ?? new Set();
    set.add(listener as ListingListener<never>);
    this.subscribers.set(key.id, set);
    listener(this.lookup(key));
    return () => set.delete(listener as ListingListener<never>);
  }

  /** Removes a stopped actor from every listing. */
  removeEverywhere(ref: AnyActorRef): void {
    for (const [id, refs] of this.listings) {
      if (refs.includes(ref)) {
        this.listings.set(id, refs.filter((r) => r !== ref));
        this.notify(id);
      }
    }
  }

  private notify(id: string): void {
    const refs = this.listings.get(id) ?? [];
    for (const listener of this.subscribers.get(id) ?? []) listener(refs as readonly ActorRef<never>[]);
  }
}
