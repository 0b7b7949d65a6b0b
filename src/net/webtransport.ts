import type { ReadableStream, WritableStream } from 'node:stream/web';
import type { Logger } from '../actors/logging.js';
import { streamChannel } from './channel.js';
import type { NodeCertificate } from './certificate.js';
import { TransportError } from './errors.js';
import type {
  ConnectOptions,
  FrameChannel,
  ListenAddress,
  PeerIdentity,
  SessionCloseInfo,
  Transport,
  TransportListener,
  TransportSession,
} from './transport.js';

/**
 * The Transport over `@fails-components/webtransport` (1.6.x). HTTP/3 over
 * QUIC when the native `@fails-components/webtransport-transport-http3-quiche`
 * loads, WebTransport over HTTP/2 otherwise, with the same code above the
 * session. Facts measured on Node 20 that shape this file:
 * - `Http3Server` (or `HttpServer` with reliability 'both') never settles
 *   `ready` without the native transport, so the server is chosen by whether
 *   it loads, found first with our own dynamic import (the library's
 *   `quicheLoaded` resolves either way);
 * - the HTTP/2 server advertises a 16 KiB session window and sends no window
 *   update below 7.5 MiB, so every session stalls after 16 KiB unless
 *   `initialSessionFlowControlWindow` is raised;
 * - `secret` is required even for HTTP/2;
 * - a client `WebTransport` needs `forceReliable: true` for HTTP/2;
 * - the library leaves its HTTP/2 connections at the protocol's 64 KiB
 *   windows: a receiver busy decoding for a millisecond sends no
 *   WINDOW_UPDATE, so its sender stalls, and one-way traffic ran at half
 *   speed with both processes idle half the time. The windows are raised
 *   on every connection (`widenWindows`): the library reads every HTTP/2
 *   stream at once anyway, so what bounds memory is its WebTransport-level
 *   flow control;
 * - that flow control bounds nothing unless the readable's queue is kept
 *   bounded by hand (`boundReadQueue`);
 * - the library ends a session's HTTP/2 stream in a way that can leave Node
 *   20 writing empty DATA frames for ever (`resetOnClose`);
 * - importing the library prints "Problem loading http3-quiche transport"
 *   traces when the native transport is absent: they are filtered out here
 *   while the library loads, and replaced by one warning to the given logger.
 */

const NATIVE_TRANSPORT = '@fails-components/webtransport-transport-http3-quiche';
const SESSION_PATH = '/swarmbank';
/** Raised from the library's 16 KiB, under which HTTP/2 sessions stall. */
const SESSION_WINDOW_BYTES = 15 * 1024 * 1024;
/** HTTP/2 window per stream, on both ends of a connection: tens of milliseconds of traffic, so a receiver busy decoding does not stall its sender. */
const HTTP2_STREAM_WINDOW_BYTES = 4 * 1024 * 1024;
/** HTTP/2 window for the whole connection (every session's stream shares it). */
const HTTP2_CONNECTION_WINDOW_BYTES = 2 * HTTP2_STREAM_WINDOW_BYTES;
/** Bytes a stream's readable may queue unread before the library is told to stop reading (see boundReadQueue). */
const READ_QUEUE_BYTES = 1024 * 1024;
const DETECT_TIMEOUT_MS = 2_000;
const READY_TIMEOUT_MS = 10_000;
/** Close code for a session whose peer sent a bad frame. */
export const CLOSE_BAD_FRAME = 4400;

interface WtBidirectionalStream {
  readonly readable: ReadableStream<Uint8Array>;
  readonly writable: WritableStream<Uint8Array>;
}

/** The library's own object behind a stream (its `HttpWTStream`); see boundReadQueue. */
interface WtStreamObject {
  readonly readable?: ReadableStream<Uint8Array>;
  readonly objint?: { stopReading?(): void };
  readonly readableController?: { readonly desiredSize: number | null };
  commitReadBuffer?(buffer: unknown): { stopReading?: boolean };
}

interface WtSession {
  readonly ready: Promise<unknown>;
  readonly closed: Promise<{ closeCode?: number; reason?: string } | undefined>;
  readonly incomingBidirectionalStreams: ReadableStream<WtBidirectionalStream>;
  readonly peerAddress?: string;
  createBidirectionalStream(): Promise<WtBidirectionalStream>;
  close(info?: { closeCode?: number; reason?: string }): void;
}

interface WtServer {
  readonly ready: Promise<unknown>;
  readonly closed: Promise<unknown>;
  startServer(): void;
  stopServer(): void;
  updateCert(cert: string, privKey: string, http2only: boolean): void;
  address(): { port: number; host: string } | null;
  sessionStream(path: string): ReadableStream<WtSession>;
}

interface WtLibrary {
  readonly Http2Server: new (init: Record<string, unknown>) => WtServer;
  readonly HttpServer: new (init: Record<string, unknown>) => WtServer;
  readonly WebTransport: new (url: string, options: Record<string, unknown>) => WtSession;
  readonly quicheLoaded: Promise<unknown>;
}

export interface Http3Availability {
  readonly available: boolean;
  /** Why HTTP/3 is not available, when it is not. */
  readonly reason?: string;
}

let availability: Promise<Http3Availability> | undefined;
let library: Promise<WtLibrary> | undefined;
let fallbackLogged = false;

/** Whether the native HTTP/3 transport loads here; found once per process, within 2 s. */
export function detectHttp3(): Promise<Http3Availability> {
  availability ??= (async () => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<Http3Availability>((resolve) => {
      timer = setTimeout(
        () => resolve({ available: false, reason: `${NATIVE_TRANSPORT} did not load within ${DETECT_TIMEOUT_MS} ms` }),
        DETECT_TIMEOUT_MS,
      );
    });
    const specifier: string = NATIVE_TRANSPORT;
    const attempt = import(specifier).then(
      (): Http3Availability => ({ available: true }),
      (error: unknown): Http3Availability => ({
        available: false,
        reason: `${NATIVE_TRANSPORT} is not installed or its native binary is missing (${firstLine(error)})`,
      }),
    );
    try {
      return await Promise.race([attempt, timeout]);
    } finally {
      clearTimeout(timer);
    }
  })();
  return availability;
}

/** Loads the library once, with its "Problem loading http3-quiche" console traces filtered out. */
function loadLibrary(): Promise<WtLibrary> {
  library ??= (async () => {
    const { available } = await detectHttp3();
    if (available) return (await import('@fails-components/webtransport')) as unknown as WtLibrary;
    const restore = filterConsole(/Problem loading http3-quiche|webtransport-transport-http3-quiche|^http3 loader:/);
    try {
      const lib = (await import('@fails-components/webtransport')) as unknown as WtLibrary;
      await lib.quicheLoaded;
      // The server module's own loader settles a turn later.
      await new Promise((resolve) => setTimeout(resolve, 0));
      return lib;
    } finally {
      restore();
    }
  })();
  return library;
}

function filterConsole(pattern: RegExp): () => void {
  const { log, error } = console;
  const matches = (args: unknown[]) => args.some((arg) => pattern.test(arg instanceof Error ? arg.message : String(arg)));
  console.log = (...args: unknown[]) => {
    if (!matches(args)) log.apply(console, args);
  };
  console.error = (...args: unknown[]) => {
    if (!matches(args)) error.apply(console, args);
  };
  return () => {
    console.log = log;
    console.error = error;
  };
}

export interface WebTransportOptions {
  /** The server's certificate; required to listen. */
  readonly certificate?: NodeCertificate;
  /** Ask for HTTP/3 (QUIC). Falls back to HTTP/2, saying so once, when the native transport is absent. Default true. */
  readonly preferHttp3?: boolean;
  readonly maxFrameBytes?: number;
  readonly highWaterBytes?: number;
  /** The library logs nothing unless given one. */
  readonly logger?: Logger;
}

/** Creates the WebTransport Transport. */
export function webTransport(options: WebTransportOptions = {}): Transport {
  const channelOptions = {
    ...(options.maxFrameBytes === undefined ? {} : { maxFrameBytes: options.maxFrameBytes }),
    ...(options.highWaterBytes === undefined ? {} : { highWaterBytes: options.highWaterBytes }),
  };

  async function useHttp3(): Promise<boolean> {
    if (options.preferHttp3 === false) return false;
    const found = await detectHttp3();
    if (!found.available && options.logger && !fallbackLogged) {
      fallbackLogged = true;
      options.logger?.warn(
        { reason: found.reason },
        'HTTP/3 (QUIC) requested but unavailable: falling back to WebTransport over HTTP/2',
      );
    }
    return found.available;
  }

  return {
    name: 'webtransport',

    async listen(host, port) {
      const certificate = options.certificate;
      if (!certificate) throw new TransportError('TRANSPORT_LISTEN_FAILED', 'a certificate is required to listen');
      const [lib, http3] = await Promise.all([loadLibrary(), useHttp3()]);
      const init: Record<string, unknown> = {
        host,
        port,
        secret: randomSecret(),
        cert: certificate.certPem,
        privKey: certificate.keyPem,
        initialSessionFlowControlWindow: SESSION_WINDOW_BYTES,
        defaultDatagramsReadableMode: 'bytes',
      };
      let server: WtServer;
      try {
        server = http3 ? new lib.HttpServer({ ...init, reliability: 'both' }) : new lib.Http2Server(init);
        server.startServer();
        await withTimeout(server.ready, READY_TIMEOUT_MS, 'server did not become ready');
      } catch (cause) {
        throw new TransportError('TRANSPORT_LISTEN_FAILED', `cannot listen on ${host}:${port}`, { cause });
      }
      const bound = server.address();
      if (!bound) throw new TransportError('TRANSPORT_LISTEN_FAILED', `cannot listen on ${host}:${port}`);
      const protocol = http3 ? 'webtransport-http3' : 'webtransport-http2';
      return serverListener(server, { host, port: bound.port }, protocol, channelOptions, trackConnections(server));
    },

    async connect(url, connectOptions: ConnectOptions = {}) {
      const [lib, http3] = await Promise.all([loadLibrary(), useHttp3()]);
      const hashes = connectOptions.serverCertificateHashes ?? [];
      let wt: WtSession;
      try {
        wt = new lib.WebTransport(url, {
          ...(http3 ? {} : { forceReliable: true }),
          ...(hashes.length > 0
            ? // The library reads a view's whole underlying buffer, ignoring its offset: pass each hash in a buffer of its own.
              { serverCertificateHashes: hashes.map((value) => ({ algorithm: 'sha-256', value: Uint8Array.from(value) })) }
            : {}),
        });
      } catch (cause) {
        throw new TransportError('TRANSPORT_CONNECT_FAILED', `cannot connect to ${url}`, { cause });
      }
      // An unobserved rejection here would be reported as unhandled.
      wt.closed.catch(() => undefined);
      if (!http3) widenClientWindows(wt);
      try {
        await withTimeout(wt.ready, connectOptions.timeoutMs ?? READY_TIMEOUT_MS, 'session did not become ready');
      } catch (cause) {
        safeClose(wt, { closeCode: 0, reason: 'connect failed' });
        throw new TransportError('TRANSPORT_CONNECT_FAILED', `cannot connect to ${url}`, { cause });
      }
      const target = new URL(url);
      const peer: PeerIdentity = {
        address: target.hostname,
        port: Number(target.port),
        protocol: http3 ? 'webtransport' : 'webtransport-http2',
        target: url,
      };
      return wrapSession(wt, peer, channelOptions, !http3);
    },
  };
}

interface ChannelOptions {
  readonly maxFrameBytes?: number;
  readonly highWaterBytes?: number;
}

function serverListener(
  server: WtServer,
  address: ListenAddress,
  protocol: string,
  channelOptions: ChannelOptions,
  destroyConnections: () => void,
): TransportListener {
  const live = new Set<TransportSession>();
  const incoming = server.sessionStream(SESSION_PATH);
  let closing: Promise<void> | undefined;

  async function* sessions(): AsyncGenerator<TransportSession, void, undefined> {
    const reader = incoming.getReader();
    try {
      for (;;) {
        const next = await reader.read().catch(() => ({ done: true as const, value: undefined }));
        if (next.done) return;
        const wt = next.value;
        wt.closed.catch(() => undefined);
        try {
          await withTimeout(wt.ready, READY_TIMEOUT_MS, 'session did not become ready');
        } catch {
          safeClose(wt, { closeCode: 0, reason: 'not ready' });
          continue;
        }
        const session = wrapSession(wt, serverPeer(wt, protocol), channelOptions, protocol !== 'webtransport-http3');
        live.add(session);
        void session.closed.then(() => live.delete(session));
        yield session;
      }
    } finally {
      reader.releaseLock();
    }
  }

  return {
    address,
    protocol,
    sessions,
    updateCertificate(certificate) {
      server.updateCert(certificate.certPem, certificate.keyPem, protocol !== 'webtransport-http3');
    },
    close() {
      closing ??= (async () => {
        for (const session of live) session.close({ code: 0, reason: 'server closing' });
        live.clear();
        server.stopServer();
        destroyConnections();
        await withTimeout(server.closed, 5_000, 'server did not close').catch(() => undefined);
      })();
      return closing;
    },
  };
}

interface Http2Connection {
  readonly connecting?: boolean;
  readonly destroyed: boolean;
  settings(settings: { readonly initialWindowSize: number }): void;
  setLocalWindowSize(bytes: number): void;
  close(): void;
  destroy(): void;
  once(event: 'close' | 'connect', listener: () => void): void;
}

/**
 * Raises an HTTP/2 connection's windows: the stream window by a SETTINGS
 * frame (it applies to the streams already open too), the connection's by
 * a WINDOW_UPDATE, once the connection is up.
 */
function widenWindows(connection: Http2Connection): void {
  const widen = () => {
    if (connection.destroyed) return;
    try {
      connection.settings({ initialWindowSize: HTTP2_STREAM_WINDOW_BYTES });
      connection.setLocalWindowSize(HTTP2_CONNECTION_WINDOW_BYTES);
    } catch {
      // Closed meanwhile: nothing left to widen.
    }
  };
  if (connection.connecting === true) connection.once('connect', widen);
  else widen();
}

/** The client's HTTP/2 connection, found inside the library (created as the WebTransport is constructed). */
function widenClientWindows(wt: WtSession): void {
  const connection = (wt as unknown as { sessionint?: { parentobj?: { transportInt?: { clientInt?: Http2Connection } } } }).sessionint
    ?.parentobj?.transportInt?.clientInt;
  if (connection !== undefined) widenWindows(connection);
}

/** How long a closing listener lets a peer's HTTP/2 connection finish what it was sending before destroying it. */
const CONNECTION_GRACE_MS = 1_000;

/**
 * The library's HTTP/2 `stopServer` closes the listening socket but not the
 * HTTP/2 connections peers hold open (its own TODO says so), and each keeps a
 * 1 s ping interval: a stopped listener would keep the process alive for as
 * long as any peer stays connected. So the connections are tracked on the
 * library's inner `http2` server, and closed (then destroyed) on close; their
 * windows are widened as they come. Returns the destroyer (a no-op where the
 * inner server is not found, e.g. HTTP/3).
 */
function trackConnections(server: WtServer): () => void {
  const inner = (server as unknown as { transportInt?: { serverInt?: { on(event: 'session', listener: (session: Http2Connection) => void): void } } }).transportInt?.serverInt;
  if (inner === undefined) return () => undefined;
  const connections = new Set<Http2Connection>();
  inner.on('session', (connection) => {
    connections.add(connection);
    widenWindows(connection);
    connection.once('close', () => connections.delete(connection));
  });
  return () => {
    for (const connection of connections) {
      // GOAWAY first, so frames already written (a peer's goodbye) are delivered; the WebTransport streams
      // would hold a graceful close open for ever, hence the deadline.
      const timer = setTimeout(() => connection.destroy(), CONNECTION_GRACE_MS);
      connection.once('close', () => clearTimeout(timer));
      connection.close();
    }
    connections.clear();
  };
}

function serverPeer(wt: WtSession, protocol: string): PeerIdentity {
  const raw = wt.peerAddress ?? '';
  const cut = raw.lastIndexOf(':');
  const port = cut >= 0 ? Number(raw.slice(cut + 1)) : Number.NaN;
  return {
    address: cut >= 0 ? raw.slice(0, cut) : raw,
    port: Number.isInteger(port) ? port : 0,
    protocol,
    target: SESSION_PATH,
  };
}

function wrapSession(wt: WtSession, peer: PeerIdentity, channelOptions: ChannelOptions, http2: boolean): TransportSession {
  let isClosed = false;
  let closeRequested = false;
  const closed: Promise<SessionCloseInfo> = wt.closed.then(
    (info) => ({ code: info?.closeCode ?? 0, reason: info?.reason ?? '' }),
    (error: unknown) => ({ code: 0, reason: firstLine(error) }),
  );
  void closed.then(() => {
    isClosed = true;
  });
  const session: TransportSession = {
    peer,
    closed,
    async openChannel() {
      if (isClosed) throw new TransportError('TRANSPORT_CLOSED', 'session is closed');
      let stream: WtBidirectionalStream;
      try {
        stream = await wt.createBidirectionalStream();
      } catch (cause) {
        throw new TransportError('TRANSPORT_CLOSED', 'cannot open a stream on this session', { cause });
      }
      return channelOf(stream);
    },
    async *incomingChannels() {
      const reader = wt.incomingBidirectionalStreams.getReader();
      try {
        for (;;) {
          const next = await reader.read().catch(() => ({ done: true as const, value: undefined }));
          if (next.done) return;
          yield channelOf(next.value);
        }
      } finally {
        reader.releaseLock();
      }
    },
    close(info) {
      // Closing an HTTP/2 session twice in one turn (say, a node closes it, then its listener closes every live
      // session) sends Node 20's http2 into an endless native loop in SendPendingData: close once only.
      if (closeRequested) return;
      closeRequested = true;
      safeClose(wt, { closeCode: info?.code ?? 0, reason: info?.reason ?? '' });
    },
  };

  if (http2) resetOnClose(wt);

  function channelOf(stream: WtBidirectionalStream): FrameChannel {
    if (http2) boundReadQueue(wt, stream);
    return streamChannel(stream, {
      ...channelOptions,
      onFrameError: (error) => session.close({ code: CLOSE_BAD_FRAME, reason: error.code }),
    });
  }

  return session;
}

/**
 * The library's HTTP/2 streams move every byte that arrives into their
 * readable's queue, and count it as consumed for flow control, whether or not
 * anyone reads: its check on the queue's size runs only while a read is
 * waiting. A peer that stopped reading, or never started, would never slow
 * its sender, and the queue would grow without bound. The library's own end
 * of the stream (its `objint`) can stop reading, and the readable's next pull
 * starts it again: so it is stopped until the first read, and whenever the
 * queue holds more than READ_QUEUE_BYTES; what arrives meanwhile waits
 * unacknowledged, and the peer's flow control window bounds it. Outgoing
 * streams reach the caller as bare {readable, writable}: their object is
 * found among the session's streams. Nothing is done where the library is
 * not laid out so.
 */
function boundReadQueue(wt: WtSession, stream: WtBidirectionalStream): void {
  let own = stream as WtStreamObject;
  if (own.objint === undefined) {
    const streams = sessionInternals<{ readonly streamObjs?: Iterable<WtStreamObject> }>(wt).streamObjs ?? [];
    own = [...streams].find((candidate) => candidate.readable === stream.readable) ?? own;
  }
  const transport = own.objint;
  const commit = own.commitReadBuffer;
  if (typeof transport?.stopReading !== 'function' || typeof commit !== 'function') return;
  transport.stopReading();
  // The library stops reading when a commit says so.
  own.commitReadBuffer = function (this: WtStreamObject, buffer: unknown) {
    const result = commit.call(this, buffer);
    const room = own.readableController?.desiredSize;
    if (typeof room === 'number' && room < -READ_QUEUE_BYTES) result.stopReading = true;
    return result;
  };
}

/** The library's end of a session's HTTP/2 stream: it writes the session's capsules, the close among them, and closes the stream. */
interface WtCapsuleParser {
  readonly stream?: { readonly closed: boolean; destroy(): void };
  closeHttp2Stream?(code: number): void;
}

/**
 * The library closes a session's HTTP/2 stream with `stream.close(code)`
 * then, at once, `stream.destroy()`: when the peer's close capsule arrives,
 * and when its own close capsule is written. Node 20 holds back the
 * RST_STREAM of a `close(0)` until the stream's writable has finished, and
 * the destroy that follows drops it for good: if bytes were still queued
 * (our own close capsule, behind a full flow control window, as when both
 * sides close at once), nghttp2 keeps the stream open with data to send,
 * while Node has forgotten the stream. At the next window update nghttp2
 * asks Node for that data, gets 0 bytes for a stream Node no longer knows,
 * and asks again: it writes empty DATA frames into memory for ever, inside
 * one native call. The event loop never returns, no timer fires, and the
 * process grows by gigabytes a minute until the kernel kills it. So a close
 * with code 0 destroys the stream alone, which Node resets at once (code
 * NO_ERROR) whatever state its writable is in; other codes were never held
 * back. What was queued is dropped either way: the session is over.
 * Nothing is done where the library is not laid out so.
 */
function resetOnClose(wt: WtSession): void {
  const parser = sessionInternals<{ readonly objint?: { readonly capsParser?: WtCapsuleParser } }>(wt).objint?.capsParser;
  const close = parser?.closeHttp2Stream;
  if (parser === undefined || typeof close !== 'function') return;
  parser.closeHttp2Stream = function (this: WtCapsuleParser, code: number) {
    if (code === 0 && this.stream !== undefined && !this.stream.closed) this.stream.destroy();
    else close.call(this, code);
  };
}

/** The library's object for the session: a client's is inside its WebTransport object, a server's is the object itself. */
function sessionInternals<Internals extends object>(wt: WtSession): Partial<Internals> {
  const outer = wt as unknown as Partial<Internals> & { readonly sessionint?: Partial<Internals> };
  return outer.sessionint ?? outer;
}

function safeClose(wt: WtSession, info: { closeCode: number; reason: string }): void {
  try {
    wt.close(info);
  } catch {
    // Already closed.
  }
}

async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new TransportError('TRANSPORT_CLOSED', `${what} within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

function randomSecret(): string {
  return Buffer.from(globalThis.crypto.getRandomValues(new Uint8Array(32))).toString('base64');
}

function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split('\n', 1)[0] ?? '';
}
