/**
 * The seam between a node and the library that moves its bytes. A node sees
 * listeners, sessions and channels of whole messages; it never sees the
 * WebTransport (or TLS, or in-memory) objects underneath, so another
 * transport can stand beside `webtransport.ts` later.
 */

/** Who is at the other end of a session, as far as the transport can tell. */
export interface PeerIdentity {
  /** Remote IP address as seen by this side ('' when the transport cannot tell). */
  readonly address: string;
  readonly port: number;
  /** Which wire protocol carries the session, e.g. 'webtransport-http2' or 'webtransport-http3'. */
  readonly protocol: string;
  /** The URL path the client asked for (servers) or the URL it dialled (clients). */
  readonly target: string;
}

/** One bidirectional stream of length-prefixed, msgpack-encoded messages. */
export interface FrameChannel {
  /**
   * Queues a message. Resolves once it is accepted within the channel's bound
   * of unsent bytes: a slow peer makes `send` wait, so memory stays bounded.
   * Rejects with a TransportError once the channel is closed or broken.
   */
  send(message: unknown): Promise<void>;
  /**
   * Queues a message at once when the channel has room; false when the
   * caller must `await send` instead (see FrameWriter.trySend). Optional:
   * without it, callers use `send`.
   */
  trySend?(message: unknown): boolean;
  /** Resolves when everything queued so far has been handed to the transport. */
  flush(): Promise<void>;
  /**
   * The peer's messages, in order. Ends when the peer closes its side; throws
   * a FrameError on an oversize or malformed frame (the session is then closed).
   */
  messages(): AsyncIterableIterator<unknown>;
  /** Flushes, then closes the sending side. */
  close(): Promise<void>;
}

export interface SessionCloseInfo {
  readonly code: number;
  readonly reason: string;
}

export interface TransportSession {
  readonly peer: PeerIdentity;
  /** Opens a new channel to the peer. */
  openChannel(): Promise<FrameChannel>;
  /** Channels the peer opens, as they arrive. */
  incomingChannels(): AsyncIterableIterator<FrameChannel>;
  /** Settles when the session is closed, by either side or by a failure. */
  readonly closed: Promise<SessionCloseInfo>;
  close(info?: Partial<SessionCloseInfo>): void;
}

export interface ListenAddress {
  readonly host: string;
  readonly port: number;
}

export interface TransportListener {
  readonly address: ListenAddress;
  /** Which protocol the listener speaks, e.g. 'webtransport-http2'. */
  readonly protocol: string;
  /** Sessions clients open, as they arrive. */
  sessions(): AsyncIterableIterator<TransportSession>;
  /** Serves a new certificate (PEM) to connections from now on; sessions already open keep theirs. */
  updateCertificate?(certificate: { readonly certPem: string; readonly keyPem: string }): void;
  /** Closes every session and stops listening. */
  close(): Promise<void>;
}

export interface ConnectOptions {
  /** SHA-256 hashes of the server certificate to accept (pinning); each 32 bytes. */
  readonly serverCertificateHashes?: readonly Uint8Array[];
  /** Gives up after this long. Default 10 s. */
  readonly timeoutMs?: number;
}

export interface Transport {
  readonly name: string;
  listen(host: string, port: number): Promise<TransportListener>;
  connect(url: string, options?: ConnectOptions): Promise<TransportSession>;
}
