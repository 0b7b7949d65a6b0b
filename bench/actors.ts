import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { performance } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import nact from 'nact';
import { type ActorRef, type Runtime, ask, createRuntime, dispatch, stateful, stateless } from '../src/index.js';

/**
 * swarmbank's runtime against raw nact, case by case, in one process and one
 * run. The box is shared and noisy, so every figure is the median of REPS
 * repetitions (min and max beside it), after discarded warm-ups on each side,
 * and the two sides alternate which goes first so drift hurts both alike.
 */

const REPS = 5;
/** V8 needs a few runs of the delivery loop before it is optimized; one warm-up left ours at a quarter of its speed. */
const WARMUPS = 3;
const ONE_WAY_MESSAGES = 200_000;
const SENDS_PER_TURN = 100;
const ROUND_TRIPS_ONE_PAIR = 50_000;
const PAIRS = 100;
const ROUND_TRIPS_PER_PAIR = 1_000;
const ASKS = 20_000;
const CONCURRENT_ASKS = 100;
const SPAWNS = 100_000;
const WARMUP_SPAWNS = 10_000;
const ASK_TIMEOUT_MS = 10_000;

type Side = 'ours' | 'nact';

interface Metric {
  readonly key: string;
  readonly label: string;
  readonly unit: string;
  readonly higherIsBetter: boolean;
}

interface Case {
  readonly metrics: readonly Metric[];
  /** One repetition on one side; the values line up with `metrics`. `warmup` asks for a smaller run where the full one is costly. */
  run(side: Side, warmup: boolean): Promise<number[]>;
}

interface Stats {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly samples: number[];
}

interface Result {
  readonly case: string;
  readonly label: string;
  readonly unit: string;
  readonly higherIsBetter: boolean;
  readonly ours: Stats;
  readonly nact: Stats;
  /** ours / nact on the medians. */
  readonly ratio: number;
}

// ---- gc --------------------------------------------------------------------

/**
 * Heap per actor needs a full collection before and after. `--expose-gc`
 * gives `gc`; without it, flipping the V8 flag at run time and reading `gc`
 * from a fresh context works too, so plain `npm run bench` measures heap.
 */
function findGc(): (() => void) | undefined {
  const exposed = (globalThis as { gc?: () => void }).gc;
  if (exposed) return exposed;
  try {
    setFlagsFromString('--expose-gc');
    const gc: unknown = runInNewContext('gc');
    return typeof gc === 'function' ? (gc as () => void) : undefined;
  } catch {
    return undefined;
  }
}

const gc = findGc();

function collect(): void {
  gc?.();
  gc?.();
}

// ---- helpers ----------------------------------------------------------------

/** Resolves once `hit` has been called `count` times. */
function latch(count: number): { hit: () => void; done: Promise<void> } {
  let left = count;
  let resolve!: () => void;
  const done = new Promise<void>((r) => (resolve = r));
  return {
    hit: () => {
      if (--left === 0) resolve();
    },
    done,
  };
}

/** Calls `send(i)` for i in [0, n): all at once, or `perTurn` per event-loop turn. */
function sendAll(n: number, perTurn: number | undefined, send: (i: number) => void): Promise<void> {
  if (perTurn === undefined) {
    for (let i = 0; i < n; i++) send(i);
    return Promise.resolve();
  }
  return new Promise((resolve) => {
    let i = 0;
    const pump = (): void => {
      const end = Math.min(n, i + perTurn);
      while (i < end) send(i++);
      if (i < n) setImmediate(pump);
      else resolve();
    };
    pump();
  });
}

function perSecond(count: number, startedAt: number): number {
  return count / ((performance.now() - startedAt) / 1000);
}

/**
 * nact finishes stopping each actor in a later `setImmediate`; until then
 * the stopped actors (500 MB after the spawn case) stay reachable and would
 * weigh on the next repetition's collections.
 */
function afterStops(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 10));
}

async function withRuntime<T>(body: (runtime: Runtime) => Promise<T>): Promise<T> {
  const runtime = createRuntime({ name: 'bench' });
  try {
    return await body(runtime);
  } finally {
    await runtime.stop();
    await afterStops();
  }
}

async function withNact<T>(body: (system: nact.ActorSystemRef) => Promise<T>): Promise<T> {
  const system = nact.start();
  try {
    return await body(system);
  } finally {
    nact.stop(system);
    await afterStops();
  }
}

// ---- cases ------------------------------------------------------------------

function oneWay(perTurn: number | undefined): Case {
  const n = ONE_WAY_MESSAGES;
  return {
    metrics: [{ key: 'rate', label: '', unit: 'msgs/s', higherIsBetter: true }],
    async run(side) {
      const { hit, done } = latch(n);
      if (side === 'ours') {
        return withRuntime(async (runtime) => {
          const sink = runtime.spawn(runtime.root, stateless<number>(hit), { name: 'sink' });
          const startedAt = performance.now();
          await sendAll(n, perTurn, (i) => dispatch(sink, i));
          await done;
          return [perSecond(n, startedAt)];
        });
      }
      return withNact(async (system) => {
        const sink = nact.spawn(system, (state: undefined, _msg: number) => {
          hit();
          return state;
        }, 'sink');
        const startedAt = performance.now();
        await sendAll(n, perTurn, (i) => nact.dispatch(sink, i));
        await done;
        return [perSecond(n, startedAt)];
      });
    },
  };
}

type PingerMsg = 'start' | 'pong';
interface Ping {
  readonly replyTo: ActorRef<'pong'>;
}
interface NactPing {
  readonly replyTo: nact.Ref<PingerMsg>;
}

function pingPong(pairs: number, roundTrips: number): Case {
  return {
    metrics: [{ key: 'rate', label: '', unit: 'trips/s', higherIsBetter: true }],
    async run(side) {
      const { hit, done } = latch(pairs);
      if (side === 'ours') {
        return withRuntime(async (runtime) => {
          const pingers: ActorRef<PingerMsg>[] = [];
          for (let p = 0; p < pairs; p++) {
            const ponger = runtime.spawn(runtime.root, stateless<Ping>((msg) => dispatch(msg.replyTo, 'pong')), { name: `b${p}` });
            const pinger = runtime.spawn(
              runtime.root,
              stateful<number, PingerMsg>({
                initialState: 0,
                receive(completed, msg, ctx) {
                  const now = msg === 'pong' ? completed + 1 : completed;
                  if (now === roundTrips) hit();
                  else dispatch(ponger, { replyTo: ctx.self });
                  return now;
                },
              }),
              { name: `a${p}` },
            );
            pingers.push(pinger);
          }
          const startedAt = performance.now();
          for (const pinger of pingers) dispatch(pinger, 'start');
          await done;
          return [perSecond(pairs * roundTrips, startedAt)];
        });
      }
      return withNact(async (system) => {
        const pingers: nact.Ref<PingerMsg>[] = [];
        for (let p = 0; p < pairs; p++) {
          const ponger = nact.spawn(system, (state: undefined, msg: NactPing) => {
            nact.dispatch(msg.replyTo, 'pong');
            return state;
          }, `b${p}`);
          const pinger = nact.spawn(
            system,
            (completed: number, msg: PingerMsg, ctx) => {
              const now = msg === 'pong' ? completed + 1 : completed;
              if (now === roundTrips) hit();
              else nact.dispatch(ponger, { replyTo: ctx.self });
              return now;
            },
            `a${p}`,
            { initialState: 0 },
          );
          pingers.push(pinger);
        }
        const startedAt = performance.now();
        for (const pinger of pingers) nact.dispatch(pinger, 'start');
        await done;
        return [perSecond(pairs * roundTrips, startedAt)];
      });
    },
  };
}

interface Question {
  readonly replyTo: ActorRef<number>;
}
interface NactQuestion {
  readonly replyTo: nact.Ref<number>;
}

/** `concurrency` asks in flight at a time, in waves, until `ASKS` have been answered. */
function asks(concurrency: number): Case {
  const waves = ASKS / concurrency;
  return {
    metrics: [{ key: 'rate', label: '', unit: 'asks/s', higherIsBetter: true }],
    async run(side) {
      if (side === 'ours') {
        return withRuntime(async (runtime) => {
          const echo = runtime.spawn(runtime.root, stateless<Question>((msg) => dispatch(msg.replyTo, 1)), { name: 'echo' });
          const one = () => ask<Question, number>(echo, (replyTo) => ({ replyTo }), ASK_TIMEOUT_MS);
          const startedAt = performance.now();
          await inWaves(waves, concurrency, one);
          return [perSecond(ASKS, startedAt)];
        });
      }
      return withNact(async (system) => {
        const echo = nact.spawn(system, (state: undefined, msg: NactQuestion) => {
          nact.dispatch(msg.replyTo, 1);
          return state;
        }, 'echo');
        const one = () => nact.query(echo, (replyTo: nact.Ref<number>) => ({ replyTo }), ASK_TIMEOUT_MS);
        const startedAt = performance.now();
        await inWaves(waves, concurrency, one);
        return [perSecond(ASKS, startedAt)];
      });
    },
  };
}

async function inWaves(waves: number, concurrency: number, one: () => Promise<unknown>): Promise<void> {
  for (let w = 0; w < waves; w++) {
    if (concurrency === 1) await one();
    else await Promise.all(Array.from({ length: concurrency }, one));
  }
}

/**
 * Spawning n actors, and optionally sending each one message and waiting for
 * it: the second form is the cost of an actor that has worked, its mailbox's
 * buffer and its first turn included (on nact's side, a scheduled message).
 */
function spawnCost(messageEach: boolean): Case {
  return {
    metrics: [
      { key: 'time', label: 'time', unit: 'µs/actor', higherIsBetter: false },
      { key: 'heap', label: 'heap', unit: 'B/actor', higherIsBetter: false },
    ],
    async run(side, warmup) {
      const n = warmup ? WARMUP_SPAWNS : SPAWNS;
      const { hit, done } = latch(n);
      // Held until the heap is read, so the actors count as live whatever the side keeps itself.
      const refs: unknown[] = new Array(n);
      const measure = async (spawnOne: (i: number) => unknown, send: (ref: unknown) => void): Promise<number[]> => {
        collect();
        const heapBefore = process.memoryUsage().heapUsed;
        const startedAt = performance.now();
        for (let i = 0; i < n; i++) refs[i] = spawnOne(i);
        if (messageEach) {
          for (const ref of refs) send(ref);
          await done;
        }
        const micros = ((performance.now() - startedAt) * 1000) / n;
        collect();
        return [micros, (process.memoryUsage().heapUsed - heapBefore) / n];
      };
      if (side === 'ours') {
        return withRuntime(async (runtime) => {
          const behaviour = stateless<number>(hit);
          return measure(
            (i) => runtime.spawn(runtime.root, behaviour, { name: `a${i}` }),
            (ref) => dispatch(ref as ActorRef<number>, 1),
          );
        });
      }
      return withNact(async (system) => {
        // Named, because nact's anonymous names are random 31-bit numbers and collide within 100k.
        const f = (state: undefined, _msg: number) => {
          hit();
          return state;
        };
        return measure(
          (i) => nact.spawn(system, f, `a${i}`),
          (ref) => nact.dispatch(ref as nact.Ref<number>, 1),
        );
      });
    },
  };
}

const CASES: readonly (Case & { readonly key: string; readonly label: string })[] = [
  { key: 'one-way-burst', label: `one-way, ${count(ONE_WAY_MESSAGES)} msgs sent in one loop`, ...oneWay(undefined) },
  { key: 'one-way-spread', label: `one-way, ${count(ONE_WAY_MESSAGES)} msgs, ${SENDS_PER_TURN} per turn`, ...oneWay(SENDS_PER_TURN) },
  { key: 'ping-pong-1', label: `ping-pong, 1 pair x ${count(ROUND_TRIPS_ONE_PAIR)}`, ...pingPong(1, ROUND_TRIPS_ONE_PAIR) },
  { key: `ping-pong-${PAIRS}`, label: `ping-pong, ${PAIRS} pairs x ${count(ROUND_TRIPS_PER_PAIR)}`, ...pingPong(PAIRS, ROUND_TRIPS_PER_PAIR) },
  { key: 'ask-sequential', label: `ask vs query, ${count(ASKS)} sequential`, ...asks(1) },
  { key: `ask-concurrent-${CONCURRENT_ASKS}`, label: `ask vs query, ${CONCURRENT_ASKS} at a time`, ...asks(CONCURRENT_ASKS) },
  { key: 'spawn', label: `spawn ${count(SPAWNS)}`, ...spawnCost(false) },
  { key: 'spawn-message', label: `spawn ${count(SPAWNS)} + 1 msg each`, ...spawnCost(true) },
];

// ---- running and printing -----------------------------------------------------

function stats(samples: number[]): Stats {
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
  return { median, min: sorted[0] as number, max: sorted[sorted.length - 1] as number, samples };
}

async function runCase(c: (typeof CASES)[number]): Promise<Result[]> {
  const samples: Record<Side, number[][]> = { ours: [], nact: [] };
  for (let warmup = 0; warmup < WARMUPS; warmup++) {
    for (const side of ['ours', 'nact'] as const) {
      collect();
      await c.run(side, true);
    }
  }
  for (let rep = 0; rep < REPS; rep++) {
    const order: readonly Side[] = rep % 2 === 0 ? ['ours', 'nact'] : ['nact', 'ours'];
    for (const side of order) {
      collect();
      samples[side].push(await c.run(side, false));
    }
  }
  return c.metrics.map((metric, m) => {
    const ours = stats(samples.ours.map((values) => values[m] as number));
    const theirs = stats(samples.nact.map((values) => values[m] as number));
    return {
      case: c.metrics.length === 1 ? c.key : `${c.key}-${metric.key}`,
      label: metric.label ? `${c.label}: ${metric.label}` : c.label,
      unit: metric.unit,
      higherIsBetter: metric.higherIsBetter,
      ours,
      nact: theirs,
      ratio: ours.median / theirs.median,
    };
  });
}

function count(n: number): string {
  return n >= 1000 && n % 1000 === 0 ? `${n / 1000}k` : String(n);
}

function fmt(value: number, unit: string): string {
  if (unit === 'µs/actor') return value.toFixed(2);
  if (unit === 'B/actor') return Math.round(value).toLocaleString('en-US');
  if (value >= 1e6) return `${(value / 1e6).toFixed(2)}M`;
  if (value >= 1e3) return `${(value / 1e3).toFixed(1)}k`;
  return value.toFixed(0);
}

function cell(s: Stats, unit: string): string {
  return `${fmt(s.median, unit)} [${fmt(s.min, unit)}–${fmt(s.max, unit)}]`;
}

/** Widths of the label, unit, ours, nact and ratio columns; labels and units align left, figures right. */
const COLUMNS = [40, 8, 26, 26, 9] as const;

function line(values: readonly string[], note = ''): string {
  const cells = values.map((v, i) => (i >= 2 ? v.padStart(COLUMNS[i] ?? 0) : v.padEnd(COLUMNS[i] ?? 0)));
  return `${cells.join('  ')}  ${note}`.trimEnd();
}

function row(r: Result): string {
  const oursWins = r.higherIsBetter ? r.ratio >= 1 : r.ratio <= 1;
  return line([r.label, r.unit, cell(r.ours, r.unit), cell(r.nact, r.unit), `${r.ratio.toFixed(2)}x`], oursWins ? '' : '<- ours worse');
}

function nactVersion(): string {
  const pkg: unknown = createRequire(import.meta.url)('nact/package.json');
  return (pkg as { version?: string }).version ?? 'unknown';
}

export async function run(args: readonly string[]): Promise<void> {
  const jsonOnly = args.includes('--json');
  const say = jsonOnly ? () => {} : (text: string) => console.log(text);
  const started = performance.now();
  const context = { node: process.version, nact: nactVersion(), cpus: availableParallelism(), reps: REPS, gc: gc !== undefined };
  say(`actors: swarmbank vs raw nact ${context.nact}, node ${context.node}, ${context.cpus} CPUs; median [min–max] of ${REPS} reps`);
  if (!gc) say('note: gc unavailable, heap figures include garbage; run with node --expose-gc --import tsx bench/index.ts actors');
  say(line(['case', 'unit', 'ours', 'nact', 'ours/nact']));
  const results: Result[] = [];
  for (const c of CASES) {
    for (const result of await runCase(c)) {
      results.push(result);
      say(row(result));
    }
  }
  const seconds = (performance.now() - started) / 1000;
  say(`total ${seconds.toFixed(1)} s`);
  console.log(JSON.stringify({ suite: 'actors', ...context, seconds: Number(seconds.toFixed(1)), results }));
}
