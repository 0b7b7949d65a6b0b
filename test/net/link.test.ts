import { describe, expect, it } from 'vitest';
import type { ClusterEvent } from '../../src/actors/events.js';
import { type Attachment, type LinkHost, PeerLink } from '../../src/net/link.js';
import { DEFAULT_LIMITS } from '../../src/net/node.js';
import type { FrameChannel, TransportSession } from '../../src/net/transport.js';
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

describe('PeerLink', () => {
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
