import { SwarmbankError } from '../errors.js';

/** Why a frame from the network was refused. */
export type FrameErrorCode = 'FRAME_TOO_LARGE' | 'FRAME_MALFORMED' | 'FRAME_TRUNCATED' | 'FRAME_UNENCODABLE';

/**
 * A frame that cannot be decoded (or a message that cannot be encoded).
 * Decoding refuses bad input only with this error, never with anything else,
 * so a node can close the offending session and go on serving the others.
 */
export class FrameError extends SwarmbankError {
  declare readonly code: FrameErrorCode;

  constructor(code: FrameErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

export type TransportErrorCode =
  | 'TRANSPORT_CLOSED'
  | 'TRANSPORT_CONNECT_FAILED'
  | 'TRANSPORT_LISTEN_FAILED'
  | 'TRANSPORT_WRITE_FAILED'
  | 'TRANSPORT_CERTIFICATE';

/** A session or listener that failed or was used after it closed. */
export class TransportError extends SwarmbankError {
  declare readonly code: TransportErrorCode;

  constructor(code: TransportErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}
