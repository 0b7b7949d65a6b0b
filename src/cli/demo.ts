import { ask, createRandom, createRuntime, dispatch, stateful, type ActorRef, type FaultPlan, type RuntimeEvent } from '../index.js';

export interface DemoOptions {
  readonly seed: number;
  readonly workers: number;
  readonly jobs: number;
  readonly write: (line: string) => void;
}

export interface DemoResult {
  readonly jobs: number;
  readonly processed: number;
  /** Jobs whose processing was interrupted by an injected crash (each is on the event stream). */
  readonly lostToFaults: number;
  readonly kills: number;
  readonly restarts: number;
  readonly deadLetters: number;
}

type WorkerMsg =
  | { readonly type: 'job'; readonly id: number }
  | { readonly type: 'done?'; readonly replyTo: ActorRef<number> };

/**
 * A supervised pool under fault injection: workers take jobs while a seeded
 * fault plan kills one and crashes others at random; supervision restarts
 * them with backoff, and the demo counts that every job not hit by a fault
 * was processed. The output is the runtime's own event stream and metrics.
 */
export async function runSupervisionDemo(options: DemoOptions): Promise<DemoResult> {
  const runtime = createRuntime({ name: 'demo', seed: options.seed });
  let lostToFaults = 0;
  let kills = 0;
  const log = (event: RuntimeEvent): void => {
    if (event.type === 'crashed' && event.message !== undefined) lostToFaults++;
    if (event.type === 'fault-injected' && event.fault === 'kill') kills++;
    if (event.type === 'crashed') options.write(`crashed    ${event.path}: ${event.error.message}`);
    if (event.type === 'restarted') options.write(`restarted  ${event.path} (attempt ${event.attempt}, after ${event.delayMs} ms)`);
    if (event.type === 'fault-injected' && event.fault === 'kill') options.write(`killed     ${event.path}`);
  };
  runtime.events.subscribe(log);

  const supervisor = runtime.spawn(runtime.root, stateful<null, never>({ initialState: null, receive: (s) => s }), { name: 'pool' });
  const worker = stateful<number, WorkerMsg>({
    initialState: 0,
    receive(done, message) {
      if (message.type === 'done?') {
        dispatch(message.replyTo, done);
        return done;
      }
      // A real worker would do the job here; the demo is about what happens around it.
      return done + 1;
    },
  });
  const workers = Array.from({ length: options.workers }, (_, i) =>
    runtime.spawn(supervisor, worker, { name: `worker-${i}`, supervision: { backoff: { minMs: 5, maxMs: 100 } } }),
  );
  runtime.faults.inject(
    { path: '/pool/*', action: { kind: 'crash', reason: 'injected' }, trigger: { probability: 0.002 } },
    createRandom(options.seed),
  );
  const plan: FaultPlan = {
    seed: options.seed,
    steps: [{ at: { afterMessages: Math.max(1, Math.floor(options.jobs / 3)) }, kill: '/pool/*', pick: 'one' }],
  };
  const execution = runtime.faults.run(plan);

  for (let id = 0; id < options.jobs; id++) {
    dispatch(workers[id % workers.length] as ActorRef<WorkerMsg>, { type: 'job', id });
    if (id % 1_000 === 999) await new Promise((resolve) => setImmediate(resolve));
  }
  await execution.done;
  // The asks queue behind every job, so once all are answered every job has been processed or has failed.
  for (const ref of workers) await ask(ref, (replyTo) => ({ type: 'done?', replyTo }), 30_000);
  const metrics = runtime.metrics();
  await runtime.stop();
  // A worker's own count dies with it on restart; the runtime's counters do not.
  const processed = metrics.processed - options.workers;
  options.write('');
  options.write(`jobs sent ${options.jobs}: processed ${processed}, lost to injected crashes ${lostToFaults} (each on the event stream), dead letters ${metrics.deadLetters}`);
  options.write(`kills ${kills}, restarts ${metrics.restarts}, seed ${options.seed}`);
  return { jobs: options.jobs, processed, lostToFaults, kills, restarts: metrics.restarts, deadLetters: metrics.deadLetters };
}
