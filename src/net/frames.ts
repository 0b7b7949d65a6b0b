import { Packr, RESERVE_START_SPACE } from 'msgpackr';
import { FrameError, TransportError } from './errors.js';

/**
 * The wire format: each message is msgpack (plain maps, no msgpackr records,
 * so every frame decodes on its own) behind a uint32 big-endian length.
 */

export const HEADER_BYTES = 4;
/** Default largest frame body accepted or sent: 1 MiB. */
export const DEFAULT_MAX_FRAME_BYTES = 1 << 20;
/** Default bound on bytes queued but not yet written, per channel. */
export const DEFAULT_HIGH_WATER_BYTES = 1 << 20;

// moreTypes: typed arrays (feature vectors) must come back as themselves, not as Buffers.
const packr = new Packr({ useRecords: false, mapsAsObjects: true, moreTypes: true });

/** Encodes one message as a length-prefixed frame; a FrameError if it is not encodable or too large. */
export function encodeFrame(message: unknown, maxFrameBytes = DEFAULT_MAX_FRAME_BYTES): Uint8Array {
  let frame: Uint8Array;
  try {
    // The header's room is reserved in msgpackr's own buffer, so the body is not copied behind it.
    // msgpackr never writes again over bytes it returned (it starts a new buffer instead), so the frame stays valid.
    frame = packr.pack(message, RESERVE_START_SPACE | HEADER_BYTES);
  } catch (cause) {
    throw new FrameError('FRAME_UNENCODABLE', 'message cannot be encoded as msgpack', { cause });
  }
  const bodyBytes = frame.byteLength - HEADER_BYTES;
  if (bodyBytes > maxFrameBytes) {
    throw new FrameError('FRAME_TOO_LARGE', `frame of ${bodyBytes} bytes exceeds the limit of ${maxFrameBytes}`);
  }
  new DataView(frame.buffer, frame.byteOffset, HEADER_BYTES).setUint32(0, bodyBytes, false);
  return frame;
}

/** Decodes one frame body; a FrameError for anything that is not exactly one msgpack value. */
export function decodeBody(body: Uint8Array): unknown {
  if (body.byteLength === 0) throw new FrameError('FRAME_MALFORMED', 'empty frame body');
  try {
    // unpack throws when the body holds more than one value, or less.
    return packr.unpack(body);
  } catch (cause) {
    throw new FrameError('FRAME_MALFORMED', 'frame body is not one msgpack value', { cause });
  }
}

/**
 * Accumulates chunks as they arrive and yields whole messages. Holds at most
 * one frame's worth of bytes (plus one chunk): the length is checked before
 * the body is awaited, so an oversize frame is refused without buffering it.
 * After a FrameError the decoder stays broken.
 */
export class FrameDecoder {
  readonly maxFrameBytes: number;
  private chunks: Uint8Array[] = [];
  private buffered = 0;
  private failed: FrameError | undefined;

  constructor(maxFrameBytes = DEFAULT_MAX_FRAME_BYTES) {
    this.maxFrameBytes = maxFrameBytes;
  }

  /** Bytes held waiting for the rest of a frame. */
  get pendingBytes(): number {
    return this.buffered;
  }

  /** Adds a chunk; returns the messages it completed. Throws only FrameError. */
  push(chunk: Uint8Array): unknown[] {
    if (this.failed) throw this.failed;
    try {
      return this.drain(chunk);
    } catch (error) {
      this.failed =
        error instanceof FrameError
          ? error
          : new FrameError('FRAME_MALFORMED', 'frame could not be decoded', { cause: error });
      this.chunks = [];
      this.buffered = 0;
      throw this.failed;
    }
  }

  /** Call at end of stream: a FrameError if a frame was cut off. */
  end(): void {
    if (this.failed) throw this.failed;
    if (this.buffered > 0) {
      this.failed = new FrameError('FRAME_TRUNCATED', `stream ended inside a frame (${this.buffered} bytes pending)`);
      throw this.failed;
    }
  }

  private drain(chunk: Uint8Array): unknown[] {
    if (chunk.byteLength > 0) {
      this.chunks.push(chunk);
      this.buffered += chunk.byteLength;
    }
    const out: unknown[] = [];
    while (this.buffered >= HEADER_BYTES) {
      const header = this.peek(HEADER_BYTES);
      const length = new DataView(header.buffer, header.byteOffset, HEADER_BYTES).getUint32(0, false);
      if (length > this.maxFrameBytes) {
        throw new FrameError('FRAME_TOO_LARGE', `frame of ${length} bytes exceeds the limit of ${this.maxFrameBytes}`);
      }
      if (this.buffered < HEADER_BYTES + length) break;
      const frame = this.take(HEADER_BYTES + length);
      out.push(decodeBody(frame.subarray(HEADER_BYTES)));
    }
    return out;
  }

  /** The first n buffered bytes, joining chunks only as needed. */
  private peek(n: number): Uint8Array {
    const first = this.chunks[0];
    if (first && first.byteLength >= n) return first;
    const joined = concat(this.chunks, this.buffered);
    this.chunks = [joined];
    return joined;
  }

  private take(n: number): Uint8Array {
    const head = this.peek(n);
    const frame = head.subarray(0, n);
    const rest = head.subarray(n);
    this.chunks.shift();
    if (rest.byteLength > 0) this.chunks.unshift(rest);
    this.buffered -= n;
    return frame;
  }
}

function concat(chunks: readonly Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}

/** Writes bytes, resolving when the transport has taken them. */
export type ByteSink = (bytes: Uint8Array) => Promise<void>;

export interface FrameWriterOptions {
  readonly maxFrameBytes?: number;
  /** `send` waits while more than this many bytes are queued. */
  readonly highWaterBytes?: number;
}

/**
 * Sends frames through a ByteSink, one write at a time. Frames queued while a
 * write is in flight go out together in the next write (one write per message
 * cost 3× the throughput on WebTransport). `send` resolves once the frame is
 * queued within `highWaterBytes`, so a slow peer slows its sender.
 */
export class FrameWriter {
  private readonly sink: ByteSink;
  private readonly maxFrameBytes: number;
  private readonly highWaterBytes: number;
  private queue: Uint8Array[] = [];
  private queuedBytes = 0;
  private writing: Promise<void> = Promise.resolve();
  /** Cleared in the same turn the write loop sees an empty queue, so no frame is left behind. */
  private active = false;
  private failure: TransportError | undefined;
  private closed = false;
  private drainWaiters: { resolve: () => void; reject: (error: Error) => void }[] = [];

  constructor(sink: ByteSink, options: FrameWriterOptions = {}) {
    this.sink = sink;
    this.maxFrameBytes = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
    this.highWaterBytes = options.highWaterBytes ?? DEFAULT_HIGH_WATER_BYTES;
  }

  /** Bytes queued and not yet handed to the sink. */
  get pendingBytes(): number {
    return this.queuedBytes;
  }

  async send(message: unknown): Promise<void> {
    this.assertOpen();
    const frame = encodeFrame(message, this.maxFrameBytes);
    // Wait in line behind earlier waiters, so messages keep their order.
    while (
      this.drainWaiters.length > 0 ||
      (this.queuedBytes > 0 && this.queuedBytes + frame.byteLength > this.highWaterBytes)
    ) {
      await new Promise<void>((resolve, reject) => this.drainWaiters.push({ resolve, reject }));
      this.assertOpen();
    }
    this.queue.push(frame);
    this.queuedBytes += frame.byteLength;
    this.pump();
  }

  /**
   * Queues a frame now, without a promise, when nothing waits and the queue is
   * under `highWaterBytes` (which one frame may overshoot); false when the
   * caller must `await send` instead. Throws like `send`.
   */
  trySend(message: unknown): boolean {
    this.assertOpen();
    if (this.drainWaiters.length > 0 || this.queuedBytes >= this.highWaterBytes) return false;
    const frame = encodeFrame(message, this.maxFrameBytes);
    this.queue.push(frame);
    this.queuedBytes += frame.byteLength;
    this.pump();
    return true;
  }

  /** Resolves once every queued frame has been written; rejects if a write failed. */
  async flush(): Promise<void> {
    while (this.active) await this.writing;
    if (this.failure) throw this.failure;
  }

  /** No more sends; pending ones still go out (await `flush`). */
  end(): void {
    this.closed = true;
  }

  /** Fails pending and future sends, e.g. when the session closed under us. */
  abort(error: TransportError): void {
    if (!this.failure) this.failure = error;
    this.queue = [];
    this.queuedBytes = 0;
    this.wakeWaiters();
  }

  private assertOpen(): void {
    if (this.failure) throw this.failure;
    if (this.closed) throw new TransportError('TRANSPORT_CLOSED', 'channel is closed for sending');
  }

  private pump(): void {
    if (this.active || this.queue.length === 0 || this.failure) return;
    this.active = true;
    this.writing = this.writeLoop();
  }

  private async writeLoop(): Promise<void> {
    try {
      await this.writeBatches();
    } finally {
      this.active = false;
    }
  }

  private async writeBatches(): Promise<void> {
    while (this.queue.length > 0 && !this.failure) {
      // One copy either way: a lone frame still lives in msgpackr's shared buffer, which a stream may transfer (detach).
      const batch = this.queue.length === 1 ? (this.queue[0] as Uint8Array).slice() : concat(this.queue, this.queuedBytes);
      this.queue = [];
      this.queuedBytes = 0;
      this.wakeWaiters();
      try {
        await this.sink(batch);
      } catch (cause) {
        this.abort(new TransportError('TRANSPORT_WRITE_FAILED', 'writing frames failed', { cause }));
      }
    }
  }

  private wakeWaiters(): void {
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const waiter of waiters) {
      if (this.failure) waiter.reject(this.failure);
      else waiter.resolve();
    }
  }
}

/** Reads whole messages from a byte stream; throws only FrameError for bad bytes. */
export async function* readFrames(
  chunks: AsyncIterable<Uint8Array>,
  maxFrameBytes = DEFAULT_MAX_FRAME_BYTES,
): AsyncGenerator<unknown, void, undefined> {
  const decoder = new FrameDecoder(maxFrameBytes);
  for await (const chunk of chunks) {
    for (const message of decoder.push(chunk)) yield message;
  }
  decoder.end();
}
