export { FaultUpstream, type FaultUpstreamOptions } from './fault-upstream.server.js';
export { FAULT_KINDS, type Fault, type FaultKind, type FaultScript, FaultScriptError, parseFaultScript } from './fault-script.js';
export { LOGICAL_REQUEST_HEADER } from './logical-requests.js';
export type { RateLimitScript } from './rate-limit-script.js';
export { DEFAULT_OUTPUT_TOKENS_COUNTED, formatResetDuration } from './rate-limiter.js';
export { type UpstreamStats, emptyStats } from './upstream-stats.js';
