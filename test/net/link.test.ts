import { describe, expect, it, vi } from 'vitest';
import type { ClusterEvent } from '../../src/actors/events.js';
import { type Attachment, type LinkHost, PeerLink } from '../../src/net/link.js';
import { DEFAULT_LIMITS } from '../../src/net/node.js';
import type { FrameChannel, SessionCloseInfo, TransportSession } from '../../src/net/transport.js';
import type { WireRefs } from '../../src/net/wire-refs.js';

/** A link's host that only records what the link publishes. */
function host(events: ClusterEvent[]): LinkHost {
  return {
    self: 'a',
    refs: {} as WireRefs,
    limits: DEFAULT_LIMITS,
    now: () => Date.now(),
    publish: (event) => void events.push(event),
    refused: () => undefined,
    ownPins: () => [],
    learnPins: () => undefined,
  };
}

/** A session whose close throws, as a transport may for a session already closing; its frames never come. */
function closingSession(): Attachment {
  const session = {
    close() {
      throw new Error('session is already closing');
    },
  } as unknown as TransportSession;
  const channel = { send: () => Promise.resolve() } as unknown as FrameChannel;
  const frames: AsyncIterator<unknown> = { next: () => new Promise(() => undefined) };
  return { session, channel, frames, peer: { node: 'b', incarnation: 'b-1' }, dialledBy: 'a' };
}

/** A session that records what the link sends and whether the link closed it; `peerCloses` ends it, and the link's frames, from the other side. */
function recordingSession(): { attachment: Attachment; sent: unknown[]; closedByUs: () => boolean; peerCloses: () => void } {
  const sent: unknown[] = [];
  let closedByUs = false;
  let end!: (info: SessionCloseInfo) => void;
  const closed = new Promise<SessionCloseInfo>((resolve) => (end = resolve));
  const session = {
    closed,
    close() {
      closedByUs = true;
      end({ code: 0, reason: '' });
    },
  } as unknown as TransportSession;
  const channel = {
    send: (message: unknown) => {
      sent.push(message);
      return Promise.resolve();
    },
    flush: () => Promise.resolve(),
  } as unknown as FrameChannel;
  const frames: AsyncIterator<unknown> = { next: () => closed.then(() => ({ done: true, value: undefined })) };
  const attachment: Attachment = { session, channel, frames, peer: { node: 'b', incarnation: 'b-1' }, dialledBy: 'a' };
  return { attachment, sent, closedByUs: () => closedByUs, peerCloses: () => end({ code: 0, reason: 'left' }) };
}

describe('PeerLink', () => {
  it('leaving, says bye and leaves the session open until the peer closes it, so the peer reads the goodbye and sees a leave, not a failure', async () => {
    const events: ClusterEvent[] = [];
    const link = new PeerLink('b', host(events));
    const { attachment, sent, closedByUs, peerCloses } = recordingSession();
    link.attach(attachment, '127.0.0.1:1', 'test');

    const leaving = link.close();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(sent).toContainEqual({ t: 'bye' });
    expect(closedByUs()).toBe(false);
    expect(link.isUp).toBe(true);

    peerCloses();
    await leaving;
    expect(link.isUp).toBe(false);
    // The session ending under a node that leaves is the peer's answer, not a failure of the peer.
    expect(events.filter((e) => e.type === 'member-down')).toMatchObject([{ reason: 'node stopped' }]);
  });

  it('leaving, closes the session itself when the peer has not closed it within a second of the goodbye', async () => {
    vi.useFakeTimers();
    try {
      const events: ClusterEvent[] = [];
      const link = new PeerLink('b', host(events));
      const { attachment, closedByUs } = recordingSession();
      link.attach(attachment, '127.0.0.1:1', 'test');

      let left = false;
      void link.close().then(() => (left = true));
      await vi.advanceTimersByTimeAsync(999);
      expect(closedByUs()).toBe(false);
      await vi.advanceTimersByTimeAsync(1);
      expect(left).toBe(true);
      expect(closedByUs()).toBe(true);
      expect(events.filter((e) => e.type === 'member-down')).toMatchObject([{ reason: 'node stopped' }]);
    } finally {
      vi.useRealTimers();
    }
  });

  it('goes down, says so and wakes its waiters even when the transport throws as it closes the session: detach never throws', async () => {
    const events: ClusterEvent[] = [];
    const link = new PeerLink('b', host(events));
    link.attach(closingSession(), '127.0.0.1:1', 'test');
    const down = link.whenDown();

    expect(() => link.detach('partitioned')).not.toThrow();
    expect(link.isUp).toBe(false);
    expect(link.status).toBe('down');
    expect(events.map((e) => e.type)).toEqual(['member-up', 'member-down']);
    await down;
  });
});
