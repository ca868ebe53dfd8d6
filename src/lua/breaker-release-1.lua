--[[
  The probe turn ended without a call (its device was done): the next probe may go at once.
  Input:  KEYS[1] breaker hash; ARGV[1] nowMs or '' (Redis TIME), ARGV[2] wake channel,
          ARGV[3] the budget's tag (the message)
  Output: 1.
  Time: Redis TIME (includes/script-now.lua); tests with simulated time pass nowMs in ARGV[1].
]]
--- @include "includes/script-now"
local now = scriptNow(ARGV[1])
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('HSET', KEYS[1], 'probeAt', now)
  redis.call('PUBLISH', ARGV[2], ARGV[3])
end
return 1
