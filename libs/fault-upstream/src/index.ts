export { FaultUpstream, type FaultUpstreamOptions } from './fault-upstream.server.js';
export { FAULT_KINDS, type Fault, type FaultKind, type FaultScript, FaultScriptError, parseFaultScript } from './fault-script.js';
export type { UpstreamStats } from './upstream-stats.js';
