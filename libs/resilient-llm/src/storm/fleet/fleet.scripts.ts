import { createHash } from 'node:crypto';

export interface FleetScript {
  lua: string;
  sha: string;
}

function script(lua: string): FleetScript {
  return { lua, sha: createHash('sha1').update(lua).digest('hex') };
}

// Numbers go back to Redis as '%.17g' strings: Lua's default formatting keeps 14 digits and would drift.
const NUMBER = `local function num(x) return string.format('%.17g', x) end`;

// Redis TIME as the one clock of the fleet; effect replication is what Redis 5+ does anyway.
const NOW = `
if redis.replicate_commands then redis.replicate_commands() end
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)`;

/**
 * KEYS[1] the bucket; ARGV maxTokens, delta, idleTtlMs. Adds the delta, clamps to
 * [0, maxTokens], returns the level (a missing key is a full bucket, as a fresh budget is).
 */
export const RETRY_BUDGET_PUSH = script(`${NUMBER}
local max = tonumber(ARGV[1])
local level = tonumber(redis.call('GET', KEYS[1]) or ARGV[1])
level = math.min(max, math.max(0, level + tonumber(ARGV[2])))
redis.call('SET', KEYS[1], num(level), 'PX', ARGV[3])
return num(level)`);

// A bucket is rl/rt (level, at) with rate rr and capacity rc for requests, kl/kt/kr/kc for tokens; b the block.
const REFILL = `
local function refill(level, at, rate, cap)
  if not level then return cap end
  return math.min(cap, tonumber(level) + math.max(0, now - tonumber(at)) * rate)
end
local function keep(ttl)
  local left = redis.call('PTTL', KEYS[1])
  redis.call('PEXPIRE', KEYS[1], math.max(left, math.min(86400000, math.ceil(ttl) + 1000)))
end`;

/**
 * KEYS[1] the rate hash; ARGV needRequests, needTokens, requestsPerMs, requestCapacity,
 * tokensPerMs, tokenCapacity ('' for a bucket not limited). Takes both or neither; returns 0
 * when taken, else the ms until both buckets (and any block) allow it. A need above capacity
 * waits for a full bucket and leaves it in debt, as the provider counts it in full.
 */
export const RATE_TAKE = script(`${NUMBER}${NOW}${REFILL}
local s = redis.call('HMGET', KEYS[1], 'rl', 'rt', 'kl', 'kt', 'b')
local wait = math.max(0, (tonumber(s[5]) or 0) - now)
local buckets = {
  { p = 'r', need = tonumber(ARGV[1]), rate = tonumber(ARGV[3]), cap = tonumber(ARGV[4]), level = s[1], at = s[2] },
  { p = 'k', need = tonumber(ARGV[2]), rate = tonumber(ARGV[5]), cap = tonumber(ARGV[6]), level = s[3], at = s[4] },
}
for _, b in ipairs(buckets) do
  if b.rate then
    b.have = refill(b.level, b.at, b.rate, b.cap)
    local need = math.min(b.need, b.cap)
    if b.have < need then wait = math.max(wait, (need - b.have) / b.rate) end
  end
end
if wait > 0 then return math.max(1, math.ceil(wait)) end
local ttl = 0
for _, b in ipairs(buckets) do
  if b.rate then
    local left = b.have - b.need
    redis.call('HSET', KEYS[1], b.p .. 'l', num(left), b.p .. 't', num(now), b.p .. 'r', num(b.rate), b.p .. 'c', num(b.cap))
    ttl = math.max(ttl, (b.cap - left) / b.rate)
  end
end
if ttl > 0 then keep(ttl) end
return 0`);

/**
 * KEYS[1] the rate hash; ARGV remainingRequests, remainingTokens ('' for unknown). Lowers a
 * bucket to what the provider says is left, never raises it: a stale header must not mint capacity.
 */
export const RATE_SYNC = script(`${NUMBER}${NOW}${REFILL}
local s = redis.call('HMGET', KEYS[1], 'rl', 'rt', 'rr', 'rc', 'kl', 'kt', 'kr', 'kc')
local ttl = 60000
for i, p in ipairs({ 'r', 'k' }) do
  local remaining = tonumber(ARGV[i])
  local o = (i - 1) * 4
  if remaining then
    local rate, cap = tonumber(s[o + 3]) or 0, tonumber(s[o + 4]) or math.huge
    local level = math.min(refill(s[o + 1], s[o + 2], rate, cap), remaining)
    redis.call('HSET', KEYS[1], p .. 'l', num(level), p .. 't', num(now))
    if rate > 0 and cap < math.huge then ttl = math.max(ttl, (cap - level) / rate) end
  end
end
keep(ttl)
return 0`);

/** KEYS[1] the rate hash; ARGV untilEpochMs. Holds every take back until then (a 429's Retry-After); a later block wins. */
export const RATE_BLOCK = script(`${NOW}
local untilMs = tonumber(ARGV[1])
local current = tonumber(redis.call('HGET', KEYS[1], 'b')) or 0
if untilMs > current then redis.call('HSET', KEYS[1], 'b', ARGV[1]) end
local left = redis.call('PTTL', KEYS[1])
redis.call('PEXPIRE', KEYS[1], math.max(left, 1000, math.ceil(math.max(untilMs, current) - now) + 1000))
return 0`);
