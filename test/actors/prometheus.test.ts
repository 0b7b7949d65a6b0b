import { afterEach, describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { exposeRuntimeMetrics } from '../../src/actors/prometheus.js';
import { ask, createRuntime, dispatch, stateful, type ActorRef, type Runtime } from '../../src/index.js';

const runtimes: Runtime[] = [];
afterEach(async () => {
  await Promise.all(runtimes.splice(0).map((rt) => rt.stop()));
});

type Msg = { type: 'add' } | { type: 'total'; replyTo: ActorRef<number> } | { type: 'boom' };

function counterRuntime() {
  const runtime = createRuntime({ name: 'prom' });
  runtimes.push(runtime);
  const ref = runtime.spawn(
    runtime.root,
    stateful<number, Msg>({
      initialState: 0,
      receive: (n, msg) => {
        if (msg.type === 'boom') throw new Error('boom');
        if (msg.type === 'total') dispatch(msg.replyTo, n);
        return msg.type === 'add' ? n + 1 : n;
      },
    }),
    { name: 'counter' },
  );
  return { runtime, ref };
}

/** The value of a series in Prometheus text format, e.g. `swarmbank_restarts_total{runtime="prom"}`. */
function valueOf(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  if (line === undefined) throw new Error(`no series ${series} in:\n${text}`);
  return Number(line.slice(series.length + 1));
}

describe('Prometheus metrics', () => {
  it('expose the runtime totals and each actor’s figures, read at scrape time', async () => {
    const { runtime, ref } = counterRuntime();
    const registry = exposeRuntimeMetrics(runtime);
    for (let i = 0; i < 5; i++) dispatch(ref, { type: 'add' });
    dispatch(ref, { type: 'boom' });
    await ask(ref, (replyTo: ActorRef<number>) => ({ type: 'total', replyTo }), 2_000);
    await new Promise((resolve) => setTimeout(resolve, 50));
    dispatch(runtime.refFor<Msg>('/nobody'), { type: 'add' });

    const text = await registry.metrics();
    expect(valueOf(text, 'swarmbank_messages_processed_total{runtime="prom"}')).toBe(runtime.metrics().processed);
    expect(valueOf(text, 'swarmbank_actor_failures_total{runtime="prom"}')).toBe(1);
    expect(valueOf(text, 'swarmbank_restarts_total{runtime="prom"}')).toBe(1);
    expect(valueOf(text, 'swarmbank_dead_letters_total{runtime="prom"}')).toBe(1);
    expect(valueOf(text, 'swarmbank_actors_live{runtime="prom"}')).toBe(1);
    expect(valueOf(text, 'swarmbank_actor_restarts{runtime="prom",path="/counter"}')).toBe(1);
    expect(text).toMatch(/# TYPE swarmbank_messages_processed_total counter/);

    dispatch(ref, { type: 'add' });
    await ask(ref, (replyTo: ActorRef<number>) => ({ type: 'total', replyTo }), 2_000);
    expect(valueOf(await registry.metrics(), 'swarmbank_messages_processed_total{runtime="prom"}')).toBe(runtime.metrics().processed);
  });

  it('register into the embedding service’s registry, beside its own metrics, and can leave out per-actor series', async () => {
    const { runtime } = counterRuntime();
    const registry = new Registry();
    registry.registerMetric(new (await import('prom-client')).Counter({ name: 'service_requests_total', help: 'the service’s own', registers: [] }));
    exposeRuntimeMetrics(runtime, { registry, prefix: 'swarm_', perActor: false });
    const text = await registry.metrics();
    expect(text).toContain('service_requests_total');
    expect(text).toContain('swarm_actors_live');
    expect(text).not.toContain('actor_mailbox_depth');
  });
});
