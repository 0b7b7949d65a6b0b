import { describe, expect, it } from 'vitest';
import { featureSpace } from '../../src/learning/features.js';
import { PATTERN_NAMES, patternNames } from '../../src/learning/pattern-names.js';

const space = featureSpace();

function vector(values: Record<string, number>): Float32Array {
  return Float32Array.from(space.names, (name) => values[name] ?? 0);
}

describe('pattern names', () => {
  it('read the shape against the last move: up after up continues, up after down reverses', () => {
    expect(patternNames(vector({ return_1: 1 }), 'up', space)).toContain('bullish_continuation');
    expect(patternNames(vector({ return_1: -1 }), 'up', space)).toContain('bullish_reversal');
    expect(patternNames(vector({ return_1: -1 }), 'down', space)).toContain('bearish_continuation');
    expect(patternNames(vector({ return_1: 1 }), 'down', space)).toContain('bearish_reversal');
  });

  it('name a support level below the average predicting up, a resistance level above it predicting down, and neither otherwise', () => {
    expect(patternNames(vector({ close_zscore: -1.5 }), 'up', space)).toContain('support_level');
    expect(patternNames(vector({ close_zscore: 1.5 }), 'down', space)).toContain('resistance_level');
    const neither = [...patternNames(vector({ close_zscore: -1.5 }), 'down', space), ...patternNames(vector({ close_zscore: 0.5 }), 'up', space)];
    expect(neither).not.toContain('support_level');
    expect(neither).not.toContain('resistance_level');
  });

  it('are always among PATTERN_NAMES and start with the market condition', () => {
    const names = patternNames(vector({ return_10: 3 }), 'up', space);
    expect(names[0]).toBe('trending');
    for (const name of names) expect(PATTERN_NAMES).toContain(name);
  });
});
