--[[
  Records a tenant-wide fault on a budget's breaker (budget-breaker.ts): a first fault blocks
  the budget with a first probe after probeMin; a fault of the probe turn backs the next probe
  off (probeMin * 2^failures, at most probeMax); a fault of a turn granted before the block
  changes nothing. dispatch-n.lua reads `probeAt`.
  Input:
    KEYS[1] breaker hash (reason, message, since, probeAt, failures; absent = not blocked)
    ARGV[1] nowMs or '' (Redis TIME), ARGV[2] reason, ARGV[3] message, ARGV[4] 1 when the probe
    failed, ARGV[5] probe min ms, ARGV[6] probe max ms
  Output: 1 newly blocked, 2 a probe failed for another reason, 0 no change to report.
  Time: Redis TIME (includes/script-now.lua); tests with simulated time pass nowMs in ARGV[1].
]]
--- @include "includes/script-now"
local now = scriptNow(ARGV[1])
local key, reason, message = KEYS[1], ARGV[2], ARGV[3]
local minMs, maxMs = tonumber(ARGV[5]), tonumber(ARGV[6])
local current = redis.call('HGET', key, 'reason')
if not current then
  redis.call('HSET', key, 'reason', reason, 'message', message, 'since', now,
    'probeAt', now + minMs, 'failures', 0)
  return 1
end
if ARGV[4] ~= '1' then return 0 end
local failures = redis.call('HINCRBY', key, 'failures', 1)
redis.call('HSET', key, 'reason', reason, 'message', message,
  'probeAt', now + math.min(maxMs, minMs * 2 ^ failures))
if current ~= reason then return 2 end
return 0
