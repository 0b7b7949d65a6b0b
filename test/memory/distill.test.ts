import { describe, expect, it } from 'vitest';
import { distill, planDistillation, type DistillOptions } from '../../src/memory/distill.js';
import { clusterNearDuplicates, type ClusterCandidate } from '../../src/memory/near-duplicates.js';
import { InvalidOptionError } from '../../src/memory/options.js';
import type { PatternInput } from '../../src/memory/pattern.js';
import type { PatternMemory } from '../../src/memory/store.js';
import { createRandom, type Random } from '../../src/random.js';
import { DIMENSIONS, FEATURE_SPACE, input, manualClock, rawRecords, sortedIds, useMemoryFixture } from './support.js';

const KEEP_ALL = { minSupport: 0, minConfidence: 0 } as const;

/** A unit vector along axis `axis`, or along `axis` with a small seeded wobble: near-duplicates of one another. */
function around(axis: number, random: Random | undefined, dimensions = DIMENSIONS, wobble = 0.05): Float32Array {
  return Float32Array.from({ length: dimensions }, (_, k) => (k === axis ? 1 : 0) + (random === undefined ? 0 : (random.next() - 0.5) * wobble));
}

/**
 * `clusters` groups of `size` near-duplicates (cosine ≥ 0.99 to each other),
 * group g along axis g, with distinct supports so the expected leader is
 * the member with the highest support. Different axes are orthogonal, so no
 * two groups can merge at any threshold above 0.1.
 */
function plantedClusters(random: Random, clusters: number, size: number, dimensions = DIMENSIONS): PatternInput[] {
  return Array.from({ length: clusters * size }, (_, n) => {
    const group = Math.floor(n / size);
    const support = 10 + ((n * 7) % 31);
    return input(`g${group}-m${n % size}`, {
      embedding: around(group % dimensions, random, dimensions),
      support,
      successes: Math.floor(support / 2),
      confidence: 0.5 + (n % 5) / 10,
      // Beyond the axes there are not enough orthogonal directions; distinct conditions keep those groups apart instead.
      condition: `c${Math.floor(group / dimensions)}`,
    });
  });
}

function expectedGroups(patterns: readonly PatternInput[], size: number): { into: string; from: string[] }[] {
  const groups: { into: string; from: string[] }[] = [];
  for (let start = 0; start < patterns.length; start += size) {
    const members = patterns.slice(start, start + size).sort((a, b) => b.support - a.support || (a.id < b.id ? -1 : 1));
    groups.push({ into: (members[0] as PatternInput).id, from: members.slice(1).map((p) => p.id) });
  }
  return groups.sort((a, b) => (a.into < b.into ? -1 : 1));
}

function groupsOf(merged: readonly { into: string; from: readonly string[] }[]): { into: string; from: string[] }[] {
  return merged.map(({ into, from }) => ({ into, from: [...from] })).sort((a, b) => (a.into < b.into ? -1 : 1));
}

async function seed(memory: PatternMemory, inputs: readonly PatternInput[]): Promise<void> {
  await memory.upsertMany(inputs);
}

describe('distill', () => {
  const fixture = useMemoryFixture();

  it('merges each planted cluster of near-duplicates into its most supported member (seed 11)', async () => {
    const memory = await fixture.open();
    const planted = plantedClusters(createRandom(11), 6, 4);
    await seed(memory, planted);

    const result = await distill(memory, { similarity: 0.95, ...KEEP_ALL });

    expect(groupsOf(result.merged)).toEqual(expectedGroups(planted, 4));
    expect(result.pruned).toEqual([]);
    expect(result).toMatchObject({ patternsBefore: 24, patternsAfter: 6 });
    expect(sortedIds(memory)).toEqual(expectedGroups(planted, 4).map((g) => g.into).sort());
  });

  it('gives the merged pattern the support-weighted mean embedding and confidence, summed counts, and the highest version plus one', async () => {
    const memory = await fixture.open();
    const a = input('a', { embedding: around(0, undefined).fill(0.1, 1), support: 30, successes: 20, confidence: 0.9 });
    const b = input('b', { embedding: around(0, undefined).fill(0.2, 1), support: 10, successes: 4, confidence: 0.3 });
    const c = input('c', { embedding: around(0, undefined).fill(0.15, 1), support: 0, successes: 0, confidence: 0.6 });
    await seed(memory, [a, b, c]);
    // b has been rewritten twice: version 3, the highest of the three.
    await memory.upsert(b);
    await memory.upsert(b);

    const result = await distill(memory, { similarity: 0.9, ...KEEP_ALL });

    expect(result.merged).toEqual([{ into: 'a', from: ['b', 'c'] }]);
    const merged = memory.get('a');
    expect(merged).toMatchObject({ support: 40, successes: 24, version: 4 });
    expect(merged?.confidence).toBeCloseTo((0.9 * 30 + 0.3 * 10) / 40, 12);
    const expected = a.embedding.map((value, k) => (value * 30 + (b.embedding[k] as number) * 10) / 40);
    for (let k = 0; k < DIMENSIONS; k++) expect(merged?.embedding[k]).toBeCloseTo(expected[k] as number, 6);
    expect(memory.has('b') || memory.has('c')).toBe(false);
  });

  it('keeps apart similar patterns that predict another outcome or carry other tags or another condition', async () => {
    const memory = await fixture.open();
    const same = around(2, undefined);
    await seed(memory, [
      input('base', { embedding: same }),
      input('down', { embedding: same, outcome: 'down' }),
      input('tagged', { embedding: same, tags: ['support_level'] }),
      input('volatile', { embedding: same, condition: 'volatile' }),
      input('twin', { embedding: same, support: 5, successes: 3 }),
    ]);

    const result = await distill(memory, { similarity: 0.99, ...KEEP_ALL });

    expect(result.merged).toEqual([{ into: 'base', from: ['twin'] }]);
    expect(sortedIds(memory)).toEqual(['base', 'down', 'tagged', 'volatile']);
  });

  it('compares tags as sets', async () => {
    const memory = await fixture.open();
    await seed(memory, [input('x', { tags: ['a', 'b'], support: 9 }), input('y', { tags: ['b', 'a'] })]);
    expect((await distill(memory, { similarity: 0.99, ...KEEP_ALL })).merged).toEqual([{ into: 'y', from: ['x'] }]);
  });

  it('leaves a zero embedding, stored before memories refused them, alone: it has no direction to be similar in', async () => {
    const memory = await fixture.open();
    const zero = new Float32Array(DIMENSIONS);
    const at = 1_700_000_000_000;
    const old = (id: string, embedding: Float32Array) => ({
      ...input(id, { embedding }),
      tags: ['bullish_reversal'],
      featureSpaceId: FEATURE_SPACE,
      version: 1,
      consolidated: false,
      plasticity: 1,
      createdAt: at,
      updatedAt: at,
    });
    await memory.restore({
      events: ['z1', 'z2'].map((id, i) => ({ type: 'import' as const, seq: i + 1, at, source: 'old-peer', pattern: old(id, zero) })),
    });
    await seed(memory, [input('p')]);
    expect((await distill(memory, { similarity: 0.5, ...KEEP_ALL })).merged).toEqual([]);
  });

  it('leaves a cluster unmerged when its mean embedding rounds to zeros in float32, which no memory would store', async () => {
    const memory = await fixture.open();
    // In units of the smallest float32 denormal: both members lean towards the leader, and their mean, (0.5, 0.5), rounds to zero.
    const tiny = 2 ** -149;
    const at = (values: readonly number[]) => Float32Array.from({ length: DIMENSIONS }, (_, k) => (values[k] ?? 0) * tiny);
    await seed(memory, [
      input('leader', { embedding: at([1, 1]), support: 0, successes: 0 }),
      input('m1', { embedding: at([2, -1]), support: 1, successes: 1 }),
      input('m2', { embedding: at([-1, 2]), support: 1, successes: 1 }),
    ]);
    await memory.consolidate(['leader']);
    const options = { similarity: 0.3, ...KEEP_ALL };
    expect(planDistillation([...memory.iterate()], DIMENSIONS, options).merges).toEqual([]);

    const result = await distill(memory, options);

    expect(result.merged).toEqual([]);
    expect(sortedIds(memory)).toEqual(['leader', 'm1', 'm2']);
  });

  it('prunes patterns below minSupport or minConfidence, judged after merging', async () => {
    const memory = await fixture.open();
    await seed(memory, [
      input('strong', { embedding: around(0, undefined), support: 20, confidence: 0.8 }),
      input('rare', { embedding: around(1, undefined), support: 2, successes: 1 }),
      input('doubtful', { embedding: around(2, undefined), confidence: 0.1 }),
      // Each too rare alone, enough together.
      input('half1', { embedding: around(3, undefined), support: 3, successes: 1 }),
      input('half2', { embedding: around(3, undefined), support: 3, successes: 1 }),
    ]);

    const result = await distill(memory, { similarity: 0.99, minSupport: 5, minConfidence: 0.2 });

    expect(result.merged).toEqual([{ into: 'half1', from: ['half2'] }]);
    expect(result.pruned).toEqual(['doubtful', 'rare']);
    expect(sortedIds(memory)).toEqual(['half1', 'strong']);
    expect(memory.get('half1')?.support).toBe(6);
  });

  it('never removes a consolidated pattern: it absorbs its near-duplicates, is never absorbed, and is never pruned', async () => {
    const memory = await fixture.open();
    const random = createRandom(5);
    await seed(memory, [
      input('kept', { embedding: around(0, random), support: 1, successes: 0, confidence: 0.05 }),
      input('kept-too', { embedding: around(0, random), support: 2, successes: 0 }),
      input('popular', { embedding: around(0, random), support: 50, successes: 30 }),
      input('weak', { embedding: around(4, random), support: 1, successes: 0, confidence: 0.05 }),
    ]);
    await memory.consolidate(['kept', 'kept-too']);

    const result = await distill(memory, { similarity: 0.95, minSupport: 5, minConfidence: 0.1 });

    // Consolidated patterns lead in support order: kept-too, then kept; popular joins the first.
    expect(result.merged).toEqual([{ into: 'kept-too', from: ['popular'] }]);
    expect(result.pruned).toEqual(['weak']);
    expect(sortedIds(memory)).toEqual(['kept', 'kept-too']);
    expect(memory.get('kept-too')).toMatchObject({ consolidated: true, support: 52, plasticity: 0.1 });
    expect(memory.get('kept')).toMatchObject({ consolidated: true, support: 1 });
  });

  it('reports the reduction of the pages the patterns take, as measured before and after (seed 3)', async () => {
    const memory = await fixture.open();
    await seed(memory, plantedClusters(createRandom(3), 400, 5));
    const before = memory.bytesUsed().patterns;

    const result = await distill(memory, { similarity: 0.95, ...KEEP_ALL });

    const after = memory.bytesUsed().patterns;
    expect(result).toMatchObject({ bytesBefore: before, bytesAfter: after, patternsBefore: 2000, patternsAfter: 400 });
    expect(result.reduction).toBeCloseTo(1 - after / before, 12);
    expect(result.reduction).toBeGreaterThan(0.5);
  });

  it('is journaled: replaying the journal into a fresh memory reproduces the distilled records byte for byte (seed 17)', async () => {
    const clock = manualClock();
    const source = await fixture.open({ clock: clock.now });
    const random = createRandom(17);
    await seed(source, [...plantedClusters(random, 20, 5), input('lonely', { support: 1, successes: 0, condition: 'lonely' })]);
    await source.consolidate(['g3-m0', 'g7-m2']);
    clock.advance(60_000);
    const result = await distill(source, { similarity: 0.95, minSupport: 30, minConfidence: 0.1 });
    expect(result.merged.length).toBeGreaterThan(0);
    expect(result.pruned.length).toBeGreaterThan(0);

    const rebuilt = await fixture.open();
    await rebuilt.restore({ events: source.replay() });
    expect(rebuilt.lastSeq()).toBe(source.lastSeq());
    await source.close();
    await rebuilt.close();
    const original = await rawRecords(source.path, 'patterns');
    const copy = await rawRecords(rebuilt.path, 'patterns');
    expect([...copy.keys()]).toEqual([...original.keys()]);
    for (const [key, bytes] of original) expect(copy.get(key)?.equals(bytes), key).toBe(true);
  });

  it('distills 10,000 patterns of 64 dimensions into their planted clusters (seed 64)', async () => {
    const memory = await fixture.open({ dimensions: 64 });
    const planted = plantedClusters(createRandom(64), 2000, 5, 64);
    await seed(memory, planted);

    const result = await distill(memory, { similarity: 0.95, ...KEEP_ALL });

    expect(groupsOf(result.merged)).toEqual(expectedGroups(planted, 5));
    expect(memory.count()).toBe(2000);
  });

  it.each<[string, unknown]>([
    ['similarity', { similarity: 0, minSupport: 0, minConfidence: 0 }],
    ['similarity', { similarity: 1.1, minSupport: 0, minConfidence: 0 }],
    ['similarity', { minSupport: 0, minConfidence: 0 }],
    ['minSupport', { similarity: 0.9, minSupport: -1, minConfidence: 0 }],
    ['minSupport', { similarity: 0.9, minSupport: 1.5, minConfidence: 0 }],
    ['minConfidence', { similarity: 0.9, minSupport: 0, minConfidence: Number.NaN }],
    ['minConfidence', { similarity: 0.9, minSupport: 0, minConfidence: 2 }],
    ['threshold', { similarity: 0.9, minSupport: 0, minConfidence: 0, threshold: 1 }],
  ])('refuses a bad %s option, naming it, and changes nothing', async (option, options) => {
    const memory = await fixture.open();
    await seed(memory, [input('a'), input('b')]);
    const error = await distill(memory, options as DistillOptions).catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect(error).toMatchObject({ code: 'INVALID_OPTION', option });
    expect(memory.lastSeq()).toBe(2);
  });

  it('plans the same merges and prunes whatever order it reads the patterns in, and writes nothing (seed 9)', async () => {
    const memory = await fixture.open();
    const random = createRandom(9);
    await seed(memory, plantedClusters(random, 30, 4));
    const patterns = [...memory.iterate()];
    const shuffled = [...patterns].sort(() => random.next() - 0.5);
    const options = { similarity: 0.95, minSupport: 0, minConfidence: 0.7 };

    const plan = planDistillation(patterns, DIMENSIONS, options);

    expect(planDistillation(shuffled, DIMENSIONS, options)).toEqual(plan);
    expect(plan.merges).toHaveLength(30);
    expect(plan.prunes.length).toBeGreaterThan(0);
    expect(memory.lastSeq()).toBe(120);
  });
});

describe('near-duplicate clustering', () => {
  /** The definition, with no pruning bound: every leader compares itself with every later candidate in full. */
  function reference(candidates: readonly ClusterCandidate[], threshold: number): number[][] {
    const unit = candidates.map(({ embedding }) => {
      const norm = Math.hypot(...embedding);
      return norm === 0 ? undefined : Float32Array.from(embedding, (value) => value / norm);
    });
    const taken = new Set<number>();
    const clusters: number[][] = [];
    candidates.forEach((leader, i) => {
      if (taken.has(i)) return;
      taken.add(i);
      const a = unit[i];
      if (a === undefined) return;
      const cluster = [i];
      for (let j = i + 1; j < candidates.length; j++) {
        const b = unit[j];
        const other = candidates[j] as ClusterCandidate;
        if (taken.has(j) || b === undefined || !other.absorbable || other.group !== leader.group) continue;
        if (a.reduce((sum, value, k) => sum + value * (b[k] as number), 0) >= threshold) {
          cluster.push(j);
          taken.add(j);
        }
      }
      if (cluster.length > 1) clusters.push(cluster);
    });
    return clusters;
  }

  it.each([
    [3, 0.9],
    [16, 0.95],
    [64, 0.8],
    [130, 0.97],
  ])('finds exactly the clusters of the unpruned definition in %i dimensions at similarity %f (seeded)', (dimensions, threshold) => {
    const random = createRandom(dimensions);
    const centres = Array.from({ length: 25 }, () => Float32Array.from({ length: dimensions }, () => random.next() * 2 - 1));
    // Noise from none to large, so similarities to the centres spread across the threshold rather than all clearing it.
    const candidates = Array.from({ length: 400 }, (): ClusterCandidate => {
      const centre = centres[random.int(0, centres.length - 1)] as Float32Array;
      const noise = random.next() * 0.6;
      return {
        embedding: random.next() < 0.02 ? new Float32Array(dimensions) : centre.map((value) => value + (random.next() - 0.5) * noise),
        group: random.next() < 0.8 ? 'a' : 'b',
        absorbable: random.next() < 0.9,
      };
    });

    const clusters = clusterNearDuplicates(candidates, dimensions, threshold);

    expect(clusters).toEqual(reference(candidates, threshold));
    expect(clusters.length).toBeGreaterThan(5);
    expect(clusters.some((cluster) => cluster.length > 2)).toBe(true);
  });
});
