--[[
  Extends the lease of devices this process works on (a live process keeps them); a device no
  longer in the active set (its lease ran out and dispatch gave it back) is not added again.
  Input:  KEYS[1] lane active (ZSET "cid.mid" -> lease end ms)
          ARGV[1] nowMs or '' (Redis TIME), ARGV[2] device lease ms, ARGV[3..] members
  Output: how many leases were extended.
  Time: Redis TIME (includes/script-now.lua); tests with simulated time pass nowMs in ARGV[1].
]]
--- @include "includes/script-now"
local now = scriptNow(ARGV[1])
local n = 0
for i = 3, #ARGV do n = n + redis.call('ZADD', KEYS[1], 'XX', 'CH', now + tonumber(ARGV[2]), ARGV[i]) end
return n
