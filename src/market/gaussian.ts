import type { Random } from '../random.js';

/**
 * A standard normal draw by Box–Muller. Uses one cosine branch and discards the
 * sine twin so every call consumes exactly two uniforms: the stream position
 * then depends only on the number of calls, which keeps runs reproducible.
 */
export function gaussian(random: Random): number {
  const u1 = 1 - random.next();
  const u2 = random.next();
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
}
