import { describe, expect, it } from 'vitest';
import { EmbeddingPool } from '../../src/memory/embedding-pool.js';

describe('embedding pool', () => {
  it('hands out zeroed views that never overlap, starting a new slab when one is full', () => {
    const pool = new EmbeddingPool(1024);
    const views = Array.from({ length: 12 }, () => pool.take(32));
    for (const view of views) expect([...view]).toEqual(new Array(32).fill(0));
    // 1024 bytes hold eight 128-byte views.
    expect(new Set(views.map((v) => v.buffer)).size).toBe(2);
    views.forEach((view, n) => view.fill(n));
    views.forEach((view, n) => expect([...view]).toEqual(new Array(32).fill(n)));
  });

  it('gives an array too large to share a slab with several others a buffer of its own', () => {
    const pool = new EmbeddingPool(1024);
    const large = pool.take(64);
    expect(large.byteOffset).toBe(0);
    expect(large.buffer.byteLength).toBe(256);
  });

  it('copies floats, and little-endian bytes from any offset, into views of their own', () => {
    const pool = new EmbeddingPool(1024);
    const source = Float32Array.of(1.5, -2, 3.25);
    const copy = pool.fromFloats(source);
    source.fill(0);
    expect([...copy]).toEqual([1.5, -2, 3.25]);

    const bytes = new Uint8Array(13);
    const view = new DataView(bytes.buffer, 1);
    [0.5, -1, 7].forEach((value, i) => view.setFloat32(i * 4, value, true));
    expect([...pool.fromBytes(bytes.subarray(1))]).toEqual([0.5, -1, 7]);
    expect(() => pool.fromBytes(bytes.subarray(0, 6))).toThrow(RangeError);
  });
});
