import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import http2 from 'node:http2';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type NodeCertificate, generateCertificate } from '../../src/net/certificate.js';
import type { FrameChannel, TransportListener, TransportSession } from '../../src/net/transport.js';
import { CLOSE_BAD_FRAME, detectHttp3, webTransport } from '../../src/net/webtransport.js';
import { sendRawBytes } from './support.js';

let certificate: NodeCertificate;
const listeners: TransportListener[] = [];
const sessions: TransportSession[] = [];
const children: ChildProcess[] = [];

beforeAll(async () => {
  certificate = await generateCertificate();
});

afterEach(async () => {
  for (const session of sessions.splice(0)) session.close();
  await Promise.all(listeners.splice(0).map((listener) => listener.close()));
  await Promise.all(
    children.splice(0).map(async (child) => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.stdin?.end();
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    }),
  );
});

async function echoServer(options: { maxFrameBytes?: number } = {}) {
  const transport = webTransport({ certificate, ...options });
  const listener = await transport.listen('127.0.0.1', 0);
  listeners.push(listener);
  const badFrames: string[] = [];
  void (async () => {
    for await (const session of listener.sessions()) {
      void (async () => {
        for await (const channel of session.incomingChannels()) void echo(channel, badFrames);
      })();
    }
  })();
  return { listener, badFrames, url: `https://127.0.0.1:${listener.address.port}/swarmbank` };
}

async function echo(channel: FrameChannel, badFrames: string[]): Promise<void> {
  try {
    for await (const message of channel.messages()) await channel.send(message);
    await channel.close();
  } catch (error) {
    badFrames.push((error as { code?: string }).code ?? 'unknown');
  }
}

async function connect(url: string, hash: Uint8Array, options: { maxFrameBytes?: number } = {}) {
  const session = await webTransport(options).connect(url, { serverCertificateHashes: [hash], timeoutMs: 5_000 });
  sessions.push(session);
  return session;
}

/** Sends messages and reads back as many, with a bound on the wait. */
async function roundTrip(channel: FrameChannel, messages: unknown[]): Promise<unknown[]> {
  const reading = (async () => {
    const out: unknown[] = [];
    if (messages.length === 0) return out;
    for await (const message of channel.messages()) {
      out.push(message);
      if (out.length === messages.length) break;
    }
    return out;
  })();
  for (const message of messages) void channel.send(message);
  await channel.flush();
  return reading;
}

/** Whether `session` gets SETTINGS with an initial window above `bytes` within 3 s. */
async function settingsAbove(session: http2.Http2Session, bytes: number): Promise<boolean> {
  const above = () => (session.remoteSettings.initialWindowSize ?? 0) > bytes;
  if (above()) return true;
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), 3_000);
    const check = () => {
      if (!above()) return;
      clearTimeout(timer);
      session.off('remoteSettings', check);
      resolve(true);
    };
    session.on('remoteSettings', check);
  });
}

describe('webtransport', () => {
  it('echoes frames over a real session on 127.0.0.1', async () => {
    const { url, listener } = await echoServer();
    expect(listener.protocol).toMatch(/^webtransport-http[23]$/);
    const session = await connect(url, certificate.hash);
    const channel = await session.openChannel();
    const messages = Array.from({ length: 2_000 }, (_, i) => ({ i, body: 'x'.repeat(200) }));
    // More than the 16 KiB window the library would stall at with its default options.
    expect(await roundTrip(channel, messages)).toEqual(messages);
    expect(session.peer.address).toBe('127.0.0.1');
  });

  it('echoes frames from a server in a child process', async () => {
    const fixture = fileURLToPath(new URL('./fixtures/echo-server.ts', import.meta.url));
    const child = spawn(process.execPath, ['--import', 'tsx', fixture], { stdio: ['pipe', 'pipe', 'inherit'] });
    children.push(child);
    const lines = createInterface({ input: child.stdout! });
    const [line] = (await Promise.race([
      once(lines, 'line'),
      new Promise((_, reject) => setTimeout(() => reject(new Error('fixture did not start in 20 s')), 20_000)),
    ])) as [string];
    lines.close();
    const { port, hash } = JSON.parse(line) as { port: number; hash: string };
    const session = await connect(`https://127.0.0.1:${port}/swarmbank`, new Uint8Array(Buffer.from(hash, 'hex')));
    const channel = await session.openChannel();
    const messages = Array.from({ length: 500 }, (_, i) => ({ seq: i, tags: ['bullish_reversal'], at: i * 1.5 }));
    expect(await roundTrip(channel, messages)).toEqual(messages);
  }, 40_000);

  it('closes only the session that sent an oversize frame, and keeps serving others', async () => {
    const { url, badFrames } = await echoServer({ maxFrameBytes: 1_024 });
    const bad = await connect(url, certificate.hash, { maxFrameBytes: 1 << 20 });
    const badChannel = await bad.openChannel();
    await badChannel.send('x'.repeat(5_000));
    await badChannel.flush();
    const closed = await Promise.race([
      bad.closed,
      new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 5_000)),
    ]);
    expect(closed).toBeDefined();
    expect(badFrames).toContain('FRAME_TOO_LARGE');

    const good = await connect(url, certificate.hash);
    const channel = await good.openChannel();
    expect(await roundTrip(channel, ['still', 'serving'])).toEqual(['still', 'serving']);
    void CLOSE_BAD_FRAME;
  });

  it('closes only the session that sent a malformed frame, and counts it', async () => {
    const { url, badFrames } = await echoServer();
    // A well-sized frame whose body is not msgpack (0xc1 is never used).
    const raw = await sendRawBytes(url, certificate.hash, new Uint8Array([0, 0, 0, 2, 0xc1, 0xc1]));
    try {
      const closed = await Promise.race([raw.closed.then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 5_000))]);
      expect(closed).toBe(true);
      expect(badFrames).toEqual(['FRAME_MALFORMED']);
    } finally {
      raw.close();
    }
    const good = await connect(url, certificate.hash);
    expect(await roundTrip(await good.openChannel(), [{ ok: 1 }])).toEqual([{ ok: 1 }]);
  });

  it('drops the HTTP/2 connections peers still hold when it closes, so nothing keeps the process alive', async () => {
    const listener = await webTransport({ certificate, preferHttp3: false }).listen('127.0.0.1', 0);
    const client = http2.connect(`https://127.0.0.1:${listener.address.port}`, { rejectUnauthorized: false });
    client.on('error', () => undefined);
    // The server's settings arrive once it has the connection as a session of its own.
    await once(client, 'remoteSettings');
    const closed = once(client, 'close');
    await listener.close();
    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([
      closed.then(() => 'closed'),
      new Promise<string>((resolve) => {
        timer = setTimeout(() => resolve('still open'), 3_000);
      }),
    ]);
    clearTimeout(timer);
    client.destroy();
    expect(outcome).toBe('closed');
  });

  it('raises the HTTP/2 windows above 64 KiB on both ends, so a busy receiver does not stall its sender', async () => {
    const listener = await webTransport({ certificate, preferHttp3: false }).listen('127.0.0.1', 0);
    listeners.push(listener);
    const client = http2.connect(`https://127.0.0.1:${listener.address.port}`, { rejectUnauthorized: false });
    client.on('error', () => undefined);
    try {
      // The listener's first SETTINGS are the library's; ours follow.
      const widened = await settingsAbove(client, 65_535);
      expect(widened).toBe(true);
    } finally {
      client.destroy();
    }

    // A plain HTTP/2 server sees what the WebTransport client asks for; the session itself never comes up.
    const server = http2.createSecureServer({ cert: certificate.certPem, key: certificate.keyPem, settings: { enableConnectProtocol: true } });
    const served: http2.ServerHttp2Session[] = [];
    server.on('session', (session) => served.push(session));
    const seen = new Promise<boolean>((resolve) => server.once('session', (session) => void settingsAbove(session, 65_535).then(resolve)));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as { port: number };
    try {
      const attempt = webTransport({ preferHttp3: false })
        .connect(`https://127.0.0.1:${port}/swarmbank`, { serverCertificateHashes: [certificate.hash], timeoutMs: 2_000 })
        .catch(() => undefined);
      expect(await seen).toBe(true);
      await attempt;
    } finally {
      server.close();
      for (const session of served) session.destroy();
    }
  });

  it('resets its HTTP/2 stream at once when the peer closes the session while ours still has bytes to send, and the process keeps running', async () => {
    // The peer is a plain HTTP/2 server that grants no window, so the client's own close capsule stays queued; the
    // peer closes the session too, then opens its window. A client that left its stream unreset would spin in Node's
    // http2 for ever, growing until killed: it runs in a process of its own, so that fails this test, not the runner.
    const server = http2.createSecureServer({ cert: certificate.certPem, key: certificate.keyPem, settings: { enableConnectProtocol: true, initialWindowSize: 0 } });
    const sessions: http2.ServerHttp2Session[] = [];
    server.on('session', (session) => sessions.push(session));
    const incoming = new Promise<http2.ServerHttp2Stream>((resolve) => server.once('stream', (stream) => resolve(stream)));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as { port: number };
    const fixture = fileURLToPath(new URL('./fixtures/close-race-client.ts', import.meta.url));
    const child = spawn(process.execPath, ['--import', 'tsx', fixture, `https://127.0.0.1:${port}/swarmbank`, Buffer.from(certificate.hash).toString('hex')], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    children.push(child);
    const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
    const step = async (waitMs: number): Promise<unknown> => {
      let timer: NodeJS.Timeout | undefined;
      try {
        const next = await Promise.race([
          lines.next(),
          new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new Error(`the client said nothing for ${waitMs} ms`)), waitMs);
          }),
        ]);
        return next.done ? { step: 'exited' } : JSON.parse(next.value as string);
      } finally {
        clearTimeout(timer);
      }
    };
    try {
      const stream = await incoming;
      stream.respond({ ':status': 200 });
      const reset = new Promise<number | undefined>((resolve) => stream.once('close', () => resolve(stream.rstCode)));
      expect(await step(20_000)).toEqual({ step: 'ready' });
      child.stdin!.write('close\n');
      // Once the client's close is queued behind the shut window, close from this side too: a WT_CLOSE_SESSION
      // capsule (type 0x2843, 4 bytes long: code 0, no reason).
      await new Promise((resolve) => setTimeout(resolve, 200));
      stream.write(Buffer.from([0x68, 0x43, 4, 0, 0, 0, 0]));
      expect(await step(10_000)).toEqual({ step: 'closed', code: 0, reason: '' });
      // The stream may be gone already (reset): the window opens on its connection.
      sessions[0]!.settings({ initialWindowSize: 65_535 });
      expect(await step(10_000)).toEqual({ step: 'alive' });
      // Reset with NO_ERROR, though its writable had not finished (Node held such a reset back until it had).
      expect(await reset).toBe(0);
    } finally {
      child.kill('SIGKILL');
      for (const session of sessions) session.destroy();
      server.close();
    }
  }, 40_000);

  it('makes a sender wait while its peer does not read, with the bytes in between bounded, and delivers all once it reads', async () => {
    const listener = await webTransport({ certificate, preferHttp3: false }).listen('127.0.0.1', 0);
    listeners.push(listener);
    const incoming: FrameChannel[] = [];
    void (async () => {
      for await (const session of listener.sessions()) {
        void (async () => {
          for await (const channel of session.incomingChannels()) incoming.push(channel);
        })();
      }
    })();
    const session = await connect(`https://127.0.0.1:${listener.address.port}/swarmbank`, certificate.hash);
    const channel = await session.openChannel();
    const body = 'x'.repeat(1_000);
    const total = 40_000; // About 40 MiB: far more than every window and queue between the two.
    let sent = 0;
    const sending = (async () => {
      while (sent < total) await channel.send({ i: sent++, body });
      await channel.flush();
    })();
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    // The sender's queue (1 MiB), the readable's bound (1 MiB) and the flow control windows (at most 15 MiB), nothing like 40 MiB.
    expect(sent).toBeLessThan(16_000);
    const stalledAt = sent;
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(sent).toBe(stalledAt);

    const received: number[] = [];
    for await (const message of incoming[0]!.messages()) {
      received.push((message as { i: number }).i);
      if (received.length === total) break;
    }
    await sending;
    expect(received).toEqual(Array.from({ length: total }, (_, i) => i));
  }, 30_000);

  it('pins a hash given as a view into a larger buffer (as one decoded from a message arrives)', async () => {
    const { url } = await echoServer();
    const carrier = new Uint8Array(96);
    carrier.set(certificate.hash, 40);
    const session = await connect(url, carrier.subarray(40, 72));
    const channel = await session.openChannel();
    expect(await roundTrip(channel, [{ pinned: true }])).toEqual([{ pinned: true }]);
  });

  it('refuses a client that pins the wrong certificate hash', async () => {
    const { url } = await echoServer();
    const other = await generateCertificate();
    await expect(
      webTransport().connect(url, { serverCertificateHashes: [other.hash], timeoutMs: 5_000 }),
    ).rejects.toMatchObject({ code: 'TRANSPORT_CONNECT_FAILED' });
  });

  it('says once, with the reason, when HTTP/3 is asked for but falls back to HTTP/2', async () => {
    const found = await detectHttp3();
    if (found.available) return; // The native transport is installed: nothing falls back.
    const warnings: { fields: object; message: string }[] = [];
    const ignore = () => undefined;
    const logger = { debug: ignore, info: ignore, error: ignore, warn: (fields: object, message: string) => warnings.push({ fields, message }) };
    const transport = webTransport({ certificate, logger });
    const listener = await transport.listen('127.0.0.1', 0);
    listeners.push(listener);
    expect(listener.protocol).toBe('webtransport-http2');
    await listener.close();
    const again = await transport.listen('127.0.0.1', 0);
    listeners.push(again);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.message).toMatch(/falling back to WebTransport over HTTP\/2/);
    expect(JSON.stringify(warnings[0]?.fields)).toContain('webtransport-transport-http3-quiche');
  });
});
