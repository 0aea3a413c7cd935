export { ManualClock, sequenceRandom } from './manual-clock.js';
// Time and randomness are injected: provide these tokens to drive a test's clock, sleeps and jitter.
export { RESILIENT_LLM_CLOCK, RESILIENT_LLM_RANDOM, RESILIENT_LLM_SLEEPER } from '../resilient-llm.constants.js';
export type { Clock, RandomSource, Sleeper } from '../time/clock.interface.js';
export { InMemoryIdempotencyStore } from './in-memory-idempotency.store.js';
export { InMemoryBudgetStore } from './in-memory-budget.store.js';
