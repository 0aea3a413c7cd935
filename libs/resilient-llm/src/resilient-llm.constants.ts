import { Inject } from '@nestjs/common';

/** Injection tokens, namespaced so that they never collide with the host app's. */
export const RESILIENT_LLM_OPTIONS = 'RESILIENT_LLM:OPTIONS';
export const RESILIENT_LLM_CLOCK = 'RESILIENT_LLM:CLOCK';
export const RESILIENT_LLM_SLEEPER = 'RESILIENT_LLM:SLEEPER';
export const RESILIENT_LLM_RANDOM = 'RESILIENT_LLM:RANDOM';

export const GUARDED_METADATA = 'RESILIENT_LLM:GUARDED';

export const InjectResilientLlmOptions = () => Inject(RESILIENT_LLM_OPTIONS);
export const InjectClock = () => Inject(RESILIENT_LLM_CLOCK);
export const InjectSleeper = () => Inject(RESILIENT_LLM_SLEEPER);
export const InjectRandom = () => Inject(RESILIENT_LLM_RANDOM);
export const IDEMPOTENT_METADATA = 'RESILIENT_LLM:IDEMPOTENT';
