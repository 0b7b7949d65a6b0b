import { SwarmbankError } from '../errors.js';
import { dispatch } from './ask.js';
import { type ActorContext, type Behaviour, stateful } from './behaviour.js';
import { type ActorRef, targetOf } from './ref.js';
import type { SupervisionPolicy } from './supervision.js';

export type Routing = 'round-robin' | 'broadcast' | 'consistent-hash';

export interface PoolOptions<Msg> {
  readonly routing: Routing;
  /** Number of routees, spawned as children of the router and supervised by it. */
  readonly size: number;
  readonly routee: Behaviour<Msg>;
  readonly supervision?: SupervisionPolicy;
  /** consistent-hash: the key a message is routed by; equal keys reach the same live routee. */
  readonly hashKey?: (message: Msg) => string;
  /** consistent-hash: points per routee on the ring (default 64); more spreads keys more evenly. */
  readonly virtualNodes?: number;
}

export class RouterConfigError extends SwarmbankError {
  constructor(message: string) {
    super('ROUTER_CONFIG', message);
  }
}

const ROUTEE_TERMINATED = Symbol('routee-terminated');

interface RouteeTerminated {
  readonly [ROUTEE_TERMINATED]: ActorRef<never>;
}

interface PoolState<Msg> {
  readonly routees: readonly ActorRef<Msg>[];
  readonly next: number;
  readonly ring: HashRing<Msg>;
}

/**
 * A pool router: an actor that spawns `size` routees under itself and
 * forwards each message to one of them (round-robin, or by consistent hash of
 * a key) or to all (broadcast). Routees restarted by supervision keep their
 * ref, so routing is unaffected; a routee that stops for good is removed from
 * the pool, and once none is left, messages go to dead letters with the
 * router itself.
 */
export function pool<Msg>(options: PoolOptions<Msg>): Behaviour<Msg> {
  if (!(Number.isInteger(options.size) && options.size >= 1)) {
    throw new RouterConfigError(`pool size must be an integer >= 1, got ${options.size}`);
  }
  if (options.routing === 'consistent-hash' && !options.hashKey) {
    throw new RouterConfigError('a consistent-hash pool needs hashKey(message)');
  }
  if (!['round-robin', 'broadcast', 'consistent-hash'].includes(options.routing)) {
    throw new RouterConfigError(`routing must be round-robin, broadcast or consistent-hash, got ${String(options.routing)}`);
  }
  const virtualNodes = options.virtualNodes ?? 64;
  return stateful<PoolState<Msg>, Msg | RouteeTerminated>({
    initialState: (ctx) => {
      const routees: ActorRef<Msg>[] = [];
      for (let i = 0; i < options.size; i++) {
        const routee = ctx.spawn(options.routee, { name: `routee-${i}`, supervision: options.supervision });
        ctx.watchWith(routee, { [ROUTEE_TERMINATED]: routee });
        routees.push(routee);
      }
      return { routees, next: 0, ring: new HashRing(routees, virtualNodes) };
    },
    receive(state, message, ctx: ActorContext<Msg | RouteeTerminated>) {
      if (isRouteeTerminated(message)) {
        const routees = state.routees.filter((r) => r !== message[ROUTEE_TERMINATED]);
        if (routees.length === 0) void ctx.stop(ctx.self);
        return { routees, next: 0, ring: new HashRing(routees, virtualNodes) };
      }
      const routees = state.routees;
      if (routees.length === 0) {
        // The last routee is gone and the router is stopping, but a graceful stop still hands it what was queued.
        targetOf(ctx.self).system.deadLetter(ctx.path, message, 'stopped');
        return state;
      }
      switch (options.routing) {
        case 'broadcast':
          for (const routee of routees) dispatch(routee, message);
          return state;
        case 'consistent-hash':
          dispatch(state.ring.route((options.hashKey as (m: Msg) => string)(message)), message);
          return state;
        case 'round-robin':
          dispatch(routees[state.next % routees.length] as ActorRef<Msg>, message);
          return { ...state, next: (state.next + 1) % routees.length };
      }
    },
  }) as Behaviour<Msg>;
}

function isRouteeTerminated(message: unknown): message is RouteeTerminated {
  return typeof message === 'object' && message !== null && ROUTEE_TERMINATED in message;
}

/** A ring of virtual nodes: removing a routee moves only the keys that were on its points. */
class HashRing<Msg> {
  private readonly points: Uint32Array;
  private readonly owners: ActorRef<Msg>[];

  constructor(routees: readonly ActorRef<Msg>[], virtualNodes: number) {
    const entries: [number, ActorRef<Msg>][] = [];
    for (const routee of routees) {
      for (let v = 0; v < virtualNodes; v++) entries.push([fnv1a(`${routee.path}#${v}`), routee]);
    }
    entries.sort((a, b) => a[0] - b[0]);
    this.points = Uint32Array.from(entries, (e) => e[0]);
    this.owners = entries.map((e) => e[1]);
  }

  route(key: string): ActorRef<Msg> {
    const hash = fnv1a(key);
    let lo = 0;
    let hi = this.points.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.points[mid] as number) < hash) lo = mid + 1;
      else hi = mid;
    }
    return this.owners[lo === this.points.length ? 0 : lo] as ActorRef<Msg>;
  }
}

/** FNV-1a with a murmur3 finalizer, so that keys differing in one character land far apart on the ring. */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return hash >>> 0;
}
