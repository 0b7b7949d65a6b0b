import { describe, expect, it } from 'vitest';
import { compare, REFERENCE_BENCHMARKS } from '../../src/topologies/compare.js';

describe('compare', () => {
  it('measures each topology against the reference row: accuracy, convergence, sync latency, fault tolerance, scalability and cost', async () => {
    const { results, seed, episodes } = await compare({ topologies: ['mesh'], quick: true, episodes: 4, seed: 3 });
    expect({ seed, episodes }).toEqual({ seed: 3, episodes: 4 });
    const [mesh] = results;
    expect(mesh!.reference).toEqual(REFERENCE_BENCHMARKS.mesh);
    expect(mesh!.metrics.learningCurve).toHaveLength(4);
    expect(mesh!.syncLatency!.count).toBeGreaterThan(0);
    const fault = mesh!.faultTolerance;
    expect(fault.killed).toBe('/mesh/agent-1');
    expect(fault.kept).toBeGreaterThan(0);
    expect(['High', 'Medium', 'Low']).toContain(fault.verdict);
    expect(mesh!.scalability.tried).toEqual([5, 10]);
    expect(mesh!.scalability.largestAgents).toBe(10);
    expect(mesh!.cost.messages).toBe(mesh!.metrics.messages);
    expect(mesh!.cost.cpuMs).toBeGreaterThan(0);
  });
});
