--[[
  Takes a lease lock when it is free, or extends it when this owner already holds it (a
  killed holder frees it when the lease ends). Unfenced: the value is the owner itself.
  lease-lock.ts; lock-take-fenced-2.lua is the same with a fencing token.

  Input:
    KEYS[1] the lock (STRING owner, expiring with the lease)
    ARGV[1] owner (unique per lock object)   ARGV[2] lease ms
  Output: the value held (ARGV[1]), or false when another owner holds the lock.
  Time: reads no clock (the lease is a PX expiry).
]]
local holder = redis.call('GET', KEYS[1])
if holder == false or holder == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return ARGV[1]
end
return false
