export { ManualClock } from './manual-clock.js';
export { createTestProbe, ProbeExpectationError, type TestProbe } from './probe.js';
export { awaitEvent, AwaitEventTimeoutError, flush } from './await-event.js';
export { clusteredVectors, recallAt, type ClusteredOptions } from './vectors.js';
