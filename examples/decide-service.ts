/**
 * A trading service that embeds a mesh of learning agents.
 *
 *   POST /decide   body: { "bars": [{ "time", "open", "high", "low", "close", "volume" }, …] }
 *                  (at least as many bars as the feature lookback, oldest first)
 *                  → { "direction": 1 | -1 | 0, "position": "long" | "short" | "flat", "votes", "live", "threshold" }
 *   GET  /metrics  Prometheus text: the runtime, the agents and the mesh's sync latencies.
 *
 * Run:  npx tsx examples/decide-service.ts [--port 8080] [--episodes 10]
 * The mesh trains on the simulator first, then serves. `--smoke` serves on a
 * free port, asks itself for one decision and one scrape, and exits.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { barProblem, computeFeatures, deploy, exposeDeploymentMetrics, featureSpace, simulateMarket, type Bar, type MeshDeployment } from 'swarmbank';

const args = process.argv.slice(2);
const option = (name: string, fallback: number): number => {
  const at = args.indexOf(name);
  return at >= 0 ? Number(args[at + 1]) : fallback;
};
const smoke = args.includes('--smoke');
const episodes = option('--episodes', smoke ? 3 : 10);

const space = featureSpace();
const mesh = deploy({ topology: 'mesh', agentCount: 5, learningRate: 0.01, syncProtocol: 'quic', consensusThreshold: 0.67 }, { seed: 1, maxEpisodes: episodes }) as MeshDeployment;
const registry = exposeDeploymentMetrics(mesh);
const trained = await mesh.run({ episodes });
console.log(`mesh trained: ${trained.episodes} episodes, held-out accuracy ${(trained.accuracy * 100).toFixed(1)}%`);

/** A request the service cannot use: answered with 400 and what was wrong, never a crash. */
class BadRequest extends Error {}

function barsOf(body: unknown): Bar[] {
  const bars = (body as { bars?: unknown } | null)?.bars;
  if (!Array.isArray(bars)) throw new BadRequest('body must be { "bars": [...] }');
  if (bars.length < space.lookback) throw new BadRequest(`need at least ${space.lookback} bars, got ${bars.length}`);
  bars.forEach((bar: unknown, i) => {
    if (typeof bar !== 'object' || bar === null) throw new BadRequest(`bars[${i}] is not an object`);
    const problem = barProblem(bar as Bar);
    if (problem !== undefined) throw new BadRequest(`bars[${i}]: ${problem}`);
  });
  return bars as Bar[];
}

async function decide(request: http.IncomingMessage): Promise<unknown> {
  let text = '';
  for await (const chunk of request) {
    text += chunk;
    if (text.length > 1_000_000) throw new BadRequest('body too large');
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new BadRequest('body is not JSON');
  }
  const bars = barsOf(body);
  const features = computeFeatures(bars, space).at(-1)!;
  const decision = await mesh.decide(features);
  return { ...decision, position: decision.direction > 0 ? 'long' : decision.direction < 0 ? 'short' : 'flat' };
}

const server = http.createServer((request, response) => {
  const reply = (status: number, type: string, payload: string) => response.writeHead(status, { 'content-type': type }).end(payload);
  if (request.method === 'GET' && request.url === '/metrics') {
    registry.metrics().then((text) => reply(200, registry.contentType, text), (error: unknown) => reply(500, 'text/plain', String(error)));
  } else if (request.method === 'POST' && request.url === '/decide') {
    decide(request).then(
      (decision) => reply(200, 'application/json', JSON.stringify(decision)),
      (error: unknown) => reply(error instanceof BadRequest ? 400 : 500, 'application/json', JSON.stringify({ error: String((error as Error).message) })),
    );
  } else reply(404, 'text/plain', 'POST /decide or GET /metrics\n');
});

server.listen(smoke ? 0 : option('--port', 8080), '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  console.log(`serving on http://127.0.0.1:${port} (POST /decide, GET /metrics)`);
  if (smoke) void selfTest(port);
});

const shutdown = async () => {
  server.close();
  await mesh.stop();
};
process.once('SIGINT', () => void shutdown());
process.once('SIGTERM', () => void shutdown());

async function selfTest(port: number): Promise<void> {
  const bars = simulateMarket({ seed: 7, length: 120 }).assets[0]!.bars;
  const decision = await fetch(`http://127.0.0.1:${port}/decide`, { method: 'POST', body: JSON.stringify({ bars }) });
  console.log(`decide ${decision.status} ${await decision.text()}`);
  const bad = await fetch(`http://127.0.0.1:${port}/decide`, { method: 'POST', body: JSON.stringify({ bars: bars.slice(0, 3) }) });
  console.log(`bad request ${bad.status} ${await bad.text()}`);
  const metrics = await fetch(`http://127.0.0.1:${port}/metrics`);
  const text = await metrics.text();
  console.log(`metrics ${metrics.status} ${text.split('\n').find((line) => line.startsWith('swarmbank_agents'))}`);
  await shutdown();
}
