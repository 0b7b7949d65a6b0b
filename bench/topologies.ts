import { withAgentCount } from '../src/topologies/agent-count.js';
import { parseDeploymentConfig, TOPOLOGIES, type TopologyName } from '../src/topologies/config.js';
import { deploy } from '../src/topologies/deploy.js';

/**
 * Each topology at 5, 20 and 100 agents (`--quick`: 5 and 20): wall time
 * per episode, requests to agents per second, and how far the process's
 * memory (RSS, and V8 heap) rose above where it was when the run started,
 * beside the same topology at 5 agents measured in the same run. Multi-strategy has one agent per strategy, so it runs at its
 * reference size only.
 */

interface Sample {
  readonly wallMs: number;
  readonly messages: number;
  readonly peakRssMb: number;
  readonly peakHeapMb: number;
}

interface Row extends Sample {
  readonly topology: TopologyName;
  readonly agents: number;
  readonly repetitions: number;
  readonly episodes: number;
  readonly msPerEpisode: number;
  readonly messagesPerSec: number;
  /** Wall time per agent-episode ÷ the same at this topology's smallest size: 1 is linear scaling. */
  readonly costPerAgentVsSmallest: number;
}

export async function run(args: readonly string[] = []): Promise<void> {
  const quick = args.includes('--quick');
  const sizes = quick ? [5, 20] : [5, 20, 100];
  const episodes = quick ? 2 : 3;
  const rows: Row[] = [];
  for (const topology of TOPOLOGIES) {
    const base = parseDeploymentConfig({ topology });
    const counts = topology === 'multi-strategy' ? [0] : sizes;
    let smallest: number | undefined;
    for (const n of counts) {
      const config = n === 0 ? base : withAgentCount(base, n);
      // Large runs take long and vary less; small ones are repeated for a median.
      const repetitions = quick || n >= 100 ? 1 : 3;
      const samples: Sample[] = [];
      let agents = n;
      for (let r = 0; r < repetitions; r++) {
        const { sample, counted } = await measure(config, episodes, r + 1);
        samples.push(sample);
        agents = counted;
      }
      const med = (pick: (s: Sample) => number) => median(samples.map(pick));
      const wallMs = med((s) => s.wallMs);
      const perAgentEpisode = wallMs / (agents * episodes);
      smallest ??= perAgentEpisode;
      const row: Row = {
        topology,
        agents,
        repetitions,
        episodes,
        wallMs,
        messages: med((s) => s.messages),
        peakRssMb: med((s) => s.peakRssMb),
        peakHeapMb: med((s) => s.peakHeapMb),
        msPerEpisode: wallMs / episodes,
        messagesPerSec: med((s) => (s.messages * 1_000) / s.wallMs),
        costPerAgentVsSmallest: perAgentEpisode / smallest,
      };
      rows.push(row);
      console.log(
        `${topology.padEnd(14)} ${String(agents).padStart(4)} agents  ${(row.msPerEpisode / 1000).toFixed(2).padStart(7)} s/episode  ` +
          `${Math.round(row.messagesPerSec).toString().padStart(7)} msgs/s  peak RSS +${row.peakRssMb.toFixed(0).padStart(5)} MB  ` +
          `heap +${row.peakHeapMb.toFixed(0).padStart(5)} MB  cost/agent ×${row.costPerAgentVsSmallest.toFixed(2)} vs smallest  (median of ${repetitions})`,
      );
    }
  }
  console.log(JSON.stringify({ suite: 'topologies', episodes, sizes, rows }));
}

async function measure(config: ReturnType<typeof parseDeploymentConfig>, episodes: number, seed: number): Promise<{ sample: Sample; counted: number }> {
  // The process's RSS only ever grows across runs, so each run reports its peak above where it started.
  const start = process.memoryUsage();
  let peakRss = start.rss;
  let peakHeap = start.heapUsed;
  const sampleMemory = () => {
    const usage = process.memoryUsage();
    peakRss = Math.max(peakRss, usage.rss);
    peakHeap = Math.max(peakHeap, usage.heapUsed);
  };
  const timer = setInterval(sampleMemory, 25);
  const deployment = deploy(config, { seed, maxEpisodes: episodes, market: { evalEpisodes: 4 } });
  try {
    const started = performance.now();
    const metrics = await deployment.run({ episodes });
    const wallMs = performance.now() - started;
    sampleMemory();
    return {
      sample: { wallMs, messages: metrics.messages, peakRssMb: (peakRss - start.rss) / 2 ** 20, peakHeapMb: (peakHeap - start.heapUsed) / 2 ** 20 },
      counted: metrics.agents,
    };
  } finally {
    clearInterval(timer);
    await deployment.stop();
  }
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
