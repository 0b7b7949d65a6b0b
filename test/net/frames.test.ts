import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FrameError } from '../../src/net/errors.js';
import { FrameDecoder, FrameWriter, encodeFrame, readFrames } from '../../src/net/frames.js';

const message = fc.oneof(
  fc.string(),
  fc.integer(),
  // msgpack writes -0 as the integer 0, so -0 is not expected back.
  fc.double({ noNaN: true }).map((x) => (Object.is(x, -0) ? 0 : x)),
  fc.boolean(),
  fc.constant(null),
  fc.dictionary(fc.string().filter((key) => key !== '__proto__'), fc.oneof(fc.string(), fc.integer(), fc.boolean())),
  fc.array(fc.integer(), { maxLength: 20 }),
  fc.uint8Array({ maxLength: 64 }),
);

function concat(frames: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(frames.reduce((n, f) => n + f.byteLength, 0));
  let at = 0;
  for (const f of frames) {
    out.set(f, at);
    at += f.byteLength;
  }
  return out;
}

/** Cuts bytes at the given offsets (sorted, deduplicated, within range). */
function split(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.byteLength + 1)))].sort((a, b) => a - b);
  const parts: Uint8Array[] = [];
  let from = 0;
  for (const point of [...points, bytes.byteLength]) {
    parts.push(bytes.slice(from, point));
    from = point;
  }
  return parts;
}

describe('frames', () => {
  it('round-trips a message through one frame', () => {
    const decoder = new FrameDecoder();
    const value = { kind: 'pattern', id: 'p-1', embedding: new Uint8Array([1, 2, 3]), confidence: 0.75 };
    expect(decoder.push(encodeFrame(value))).toEqual([value]);
  });

  it('decodes any sequence of messages split into arbitrary chunks to the same messages', () => {
    fc.assert(
      fc.property(fc.array(message, { maxLength: 30 }), fc.array(fc.nat(), { maxLength: 40 }), (messages, cuts) => {
        const bytes = concat(messages.map((m) => encodeFrame(m)));
        const decoder = new FrameDecoder();
        const out = split(bytes, cuts).flatMap((chunk) => decoder.push(chunk));
        decoder.end();
        expect(out).toEqual(messages);
        expect(decoder.pendingBytes).toBe(0);
      }),
      { numRuns: 300 },
    );
  });

  it('never throws anything but a FrameError on random bytes', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 8 }), (chunks) => {
        const decoder = new FrameDecoder(1024);
        try {
          for (const chunk of chunks) decoder.push(chunk);
          decoder.end();
        } catch (error) {
          expect(error).toBeInstanceOf(FrameError);
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('never throws anything but a FrameError on well-framed random bodies', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (body) => {
        const frame = new Uint8Array(4 + body.byteLength);
        new DataView(frame.buffer).setUint32(0, body.byteLength);
        frame.set(body, 4);
        try {
          new FrameDecoder().push(frame);
        } catch (error) {
          expect(error).toBeInstanceOf(FrameError);
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('refuses an oversize length before its body arrives', () => {
    const decoder = new FrameDecoder(100);
    const header = new Uint8Array([0, 0, 0, 101]);
    expect(() => decoder.push(header)).toThrow(expect.objectContaining({ code: 'FRAME_TOO_LARGE' }));
    // The decoder stays broken.
    expect(() => decoder.push(encodeFrame(1))).toThrow(FrameError);
  });

  it('refuses a body that is not exactly one msgpack value', () => {
    const twoValues = new Uint8Array([0, 0, 0, 2, 0x01, 0x02]);
    expect(() => new FrameDecoder().push(twoValues)).toThrow(expect.objectContaining({ code: 'FRAME_MALFORMED' }));
    const empty = new Uint8Array([0, 0, 0, 0]);
    expect(() => new FrameDecoder().push(empty)).toThrow(expect.objectContaining({ code: 'FRAME_MALFORMED' }));
  });

  it('reports a stream that ends inside a frame', () => {
    const decoder = new FrameDecoder();
    decoder.push(encodeFrame('hello').subarray(0, 5));
    expect(() => decoder.end()).toThrow(expect.objectContaining({ code: 'FRAME_TRUNCATED' }));
  });

  it('refuses to encode a message larger than the maximum frame', () => {
    expect(() => encodeFrame('x'.repeat(200), 100)).toThrow(expect.objectContaining({ code: 'FRAME_TOO_LARGE' }));
  });

  it('reads frames from an async byte stream', async () => {
    async function* chunks() {
      const bytes = concat([encodeFrame('a'), encodeFrame({ b: 2 })]);
      for (const part of split(bytes, [1, 3, 7])) yield part;
    }
    const out: unknown[] = [];
    for await (const m of readFrames(chunks())) out.push(m);
    expect(out).toEqual(['a', { b: 2 }]);
  });
});

describe('FrameWriter', () => {
  it('coalesces frames queued while a write is in flight', async () => {
    const writes: Uint8Array[] = [];
    let release: () => void = () => undefined;
    const writer = new FrameWriter(async (bytes) => {
      writes.push(bytes);
      if (writes.length === 1) await new Promise<void>((resolve) => (release = resolve));
    });
    await writer.send(0);
    for (let i = 1; i <= 50; i++) await writer.send(i);
    release();
    await writer.flush();
    expect(writes.length).toBe(2);
    const decoder = new FrameDecoder();
    expect(writes.flatMap((w) => decoder.push(w))).toEqual(Array.from({ length: 51 }, (_, i) => i));
  });

  it('makes the sender wait while a slow peer has a full queue, keeping memory bounded', async () => {
    const gates: (() => void)[] = [];
    let maxPending = 0;
    let slow = true;
    const writer = new FrameWriter(
      (bytes) => {
        void bytes;
        return slow ? new Promise<void>((resolve) => gates.push(resolve)) : Promise.resolve();
      },
      { highWaterBytes: 1_000 },
    );
    let accepted = 0;
    const sending = (async () => {
      for (let i = 0; i < 200; i++) {
        await writer.send('x'.repeat(90));
        accepted++;
        maxPending = Math.max(maxPending, writer.pendingBytes);
      }
    })();
    // Nothing is written yet: the sender stalls after one batch in flight plus a full queue.
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(accepted).toBeGreaterThan(0);
    expect(accepted).toBeLessThanOrEqual(13);
    // Each finished write lets about one queue's worth more in.
    const before = accepted;
    gates.shift()?.();
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(accepted - before).toBeLessThanOrEqual(12);
    for (let round = 0; round < 1_000 && accepted < 200; round++) {
      gates.shift()?.();
      await new Promise((resolve) => setImmediate(resolve));
    }
    await sending;
    expect(maxPending).toBeLessThanOrEqual(1_000);
    slow = false;
    while (gates.length > 0) gates.shift()?.();
    await writer.flush();
  });

  it('keeps message order when senders queue up behind a full buffer', async () => {
    const written: Uint8Array[] = [];
    const writer = new FrameWriter(
      async (bytes) => {
        written.push(bytes);
        await new Promise((resolve) => setTimeout(resolve, 1));
      },
      { highWaterBytes: 50 },
    );
    await Promise.all(Array.from({ length: 100 }, (_, i) => writer.send(i)));
    await writer.flush();
    const decoder = new FrameDecoder();
    expect(written.flatMap((w) => decoder.push(w))).toEqual(Array.from({ length: 100 }, (_, i) => i));
  });

  it('fails pending and later sends once a write fails', async () => {
    const writer = new FrameWriter(async () => {
      throw new Error('peer gone');
    });
    await writer.send('a');
    await expect(writer.flush()).rejects.toMatchObject({ code: 'TRANSPORT_WRITE_FAILED' });
    await expect(writer.send('b')).rejects.toMatchObject({ code: 'TRANSPORT_WRITE_FAILED' });
  });
});
