import { afterEach, describe, expect, it } from 'vitest';
import { createRuntime, type Runtime } from '../../src/index.js';
import { FrameError } from '../../src/net/errors.js';
import { MAX_DEPTH, WireRefs } from '../../src/net/wire-refs.js';

const runtimes: Runtime[] = [];
afterEach(async () => {
  await Promise.all(runtimes.splice(0).map((rt) => rt.stop()));
});

function wireRefs(): WireRefs {
  const runtime = createRuntime({ name: 'wire' });
  runtimes.push(runtime);
  return new WireRefs({
    self: 'a',
    runtime,
    remote: () => {
      throw new Error('no remote refs in these messages');
    },
    exportTtlMs: 1_000,
    maxExports: 16,
  });
}

/** Objects nested `levels` deep, counting the innermost. */
function nest(levels: number): unknown {
  let value: unknown = { leaf: true };
  for (let i = 1; i < levels; i++) value = { next: value };
  return value;
}

describe('wire refs', () => {
  it('passes a message nested MAX_DEPTH levels through both ways unchanged', () => {
    const refs = wireRefs();
    const message = nest(MAX_DEPTH);
    expect(refs.encode(message, 0)).toBe(message);
    expect(refs.decode(message)).toBe(message);
  });

  it('refuses to encode a cyclic message, or one nested deeper than MAX_DEPTH, with FRAME_UNENCODABLE', () => {
    const refs = wireRefs();
    const cyclic: { self?: unknown } = {};
    cyclic.self = [cyclic];
    for (const message of [cyclic, nest(MAX_DEPTH + 1), nest(100_000)]) {
      expect(() => refs.encode(message, 0)).toThrow(expect.objectContaining({ constructor: FrameError, code: 'FRAME_UNENCODABLE' }));
    }
  });

  it('refuses a message from the network nested deeper than MAX_DEPTH as FRAME_MALFORMED', () => {
    const refs = wireRefs();
    expect(() => refs.decode(nest(MAX_DEPTH + 1))).toThrow(expect.objectContaining({ constructor: FrameError, code: 'FRAME_MALFORMED' }));
  });
});
