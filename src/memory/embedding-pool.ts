/** Whether this machine keeps floats little-endian, the byte order embeddings are stored in. */
export const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Float32Arrays carved side by side out of shared slabs, the way Node pools
 * small Buffers. A Float32Array with a buffer of its own costs V8 a backing
 * store outside its heap (an allocation, zeroing and external-memory
 * accounting, then tracking until collected): 1 to 2.5 µs for 384
 * dimensions, measured, as much as the rest of a cached `get`. A view into
 * a slab costs a small heap object, and the slab's allocation is shared by
 * every view cut from it.
 *
 * Views never overlap and a slab's bytes are never handed out twice, so
 * each view is as much its holder's own as a fresh array: writing into it
 * changes nothing else. The price: `view.buffer` is the whole slab (code
 * that reinterprets the bytes must use `byteOffset` and `byteLength`,
 * and must not transfer or detach the buffer), and one live view keeps its
 * whole slab from being collected. Arrays too large to share a slab with
 * several others get a buffer of their own.
 */
export class EmbeddingPool {
  private slab = new ArrayBuffer(0);
  private used = 0;

  constructor(private readonly slabBytes: number) {}

  /** A zeroed Float32Array of `length` values that overlaps nothing else handed out. */
  take(length: number): Float32Array {
    const bytes = length * 4;
    if (bytes > this.slabBytes / MIN_PER_SLAB) return new Float32Array(length);
    if (this.used + bytes > this.slab.byteLength) {
      this.slab = new ArrayBuffer(this.slabBytes);
      this.used = 0;
    }
    const view = new Float32Array(this.slab, this.used, length);
    this.used += bytes;
    return view;
  }

  /** A copy of `source`. */
  readonly fromFloats = (source: Float32Array): Float32Array => {
    const target = this.take(source.length);
    target.set(source);
    return target;
  };

  /**
   * The embedding stored as `bytes` (raw little-endian float32), copied: they
   * may be a view into a buffer LMDB reuses, and need not be 4-byte aligned.
   */
  readonly fromBytes = (bytes: Uint8Array): Float32Array => {
    if (bytes.byteLength % 4 !== 0) throw new RangeError(`embedding holds ${bytes.byteLength} bytes, not a multiple of 4`);
    const target = this.take(bytes.byteLength / 4);
    if (LITTLE_ENDIAN_HOST) {
      new Uint8Array(target.buffer, target.byteOffset, target.byteLength).set(bytes);
    } else {
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      for (let i = 0; i < target.length; i++) target[i] = view.getFloat32(i * 4, true);
    }
    return target;
  };
}

/** Below this many arrays per slab, the slab's tail left unused would waste too much; such arrays get their own buffer. */
const MIN_PER_SLAB = 8;

/**
 * The slabs of embeddings handed to callers (`get`, `iterate`, search
 * results, decoded journal events, snapshots and bundles). 16 KB holds ten
 * 384-dimensional embeddings and bounds what one kept embedding can hold
 * in memory to 16 KB, twice Node's Buffer pool; larger slabs measured no
 * faster.
 */
export const callerEmbeddings = new EmbeddingPool(16 * 1024);
