import { TransportError, FrameError } from './errors.js';
import type { ReadableStream, ReadableStreamReadResult, WritableStream } from 'node:stream/web';
import { DEFAULT_MAX_FRAME_BYTES, FrameWriter, readFrames } from './frames.js';
import type { FrameChannel } from './transport.js';

export interface ByteStreamPair {
  readonly readable: ReadableStream<Uint8Array>;
  readonly writable: WritableStream<Uint8Array>;
}

export interface StreamChannelOptions {
  readonly maxFrameBytes?: number;
  readonly highWaterBytes?: number;
  /** Called once when the peer sent a bad frame; the transport closes the session. */
  readonly onFrameError?: (error: FrameError) => void;
}

/** A FrameChannel over a pair of web byte streams (one bidirectional stream). */
export function streamChannel(stream: ByteStreamPair, options: StreamChannelOptions = {}): FrameChannel {
  const maxFrameBytes = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
  const writer = stream.writable.getWriter();
  const frames = new FrameWriter(
    async (bytes) => {
      await writer.ready;
      await writer.write(bytes);
    },
    { maxFrameBytes, ...(options.highWaterBytes === undefined ? {} : { highWaterBytes: options.highWaterBytes }) },
  );
  let reading = false;
  let closing: Promise<void> | undefined;

  async function* messages(): AsyncGenerator<unknown, void, undefined> {
    if (reading) throw new TransportError('TRANSPORT_CLOSED', 'messages() may be iterated only once per channel');
    reading = true;
    const reader = stream.readable.getReader();
    const chunks: AsyncIterable<Uint8Array> = {
      async *[Symbol.asyncIterator]() {
        for (;;) {
          let result: ReadableStreamReadResult<Uint8Array>;
          try {
            result = await reader.read();
          } catch (cause) {
            throw new TransportError('TRANSPORT_CLOSED', 'stream closed while reading', { cause });
          }
          if (result.done) return;
          yield result.value;
        }
      },
    };
    try {
      yield* readFrames(chunks, maxFrameBytes);
    } catch (error) {
      if (error instanceof FrameError) {
        frames.abort(new TransportError('TRANSPORT_CLOSED', 'channel closed after a bad frame', { cause: error }));
        options.onFrameError?.(error);
      }
      throw error;
    } finally {
      reader.releaseLock();
    }
  }

  return {
    send: (message) => frames.send(message),
    trySend: (message) => frames.trySend(message),
    flush: () => frames.flush(),
    messages,
    close() {
      closing ??= (async () => {
        frames.end();
        try {
          await frames.flush();
          await writer.close();
        } catch {
          // The session is already gone: nothing left to close.
        }
      })();
      return closing;
    },
  };
}
