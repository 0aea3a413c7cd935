export type { FleetOptions, ResolvedFleetOptions } from './fleet-options.interface.js';
export { resolveFleetOptions } from './fleet-options.validation.js';
export type { FleetCircuitListener, FleetCircuitSnapshot } from './fleet-circuit.channel.js';
export type { FleetLogger } from './fleet-outage.log.js';
export { FleetUnavailableError, isFleetUnavailableError } from './fleet-unavailable.error.js';
export { type FleetLinkDependencies, type RateLimits, type RateNeed, RedisFleetLink } from './redis-fleet.link.js';
export { RedisRateBuckets } from './redis-rate-buckets.js';
export { SharedRetryBudget } from './shared-retry-budget.js';
