--[[
  Takes a lease lock when it is free, with a new fencing token from a counter that is never
  reset (every holder's value is one no earlier holder had: writes it fences check it), or
  extends it when this owner already holds it. lease-lock.ts.

  Input:
    KEYS[1] the lock (STRING `<owner>:<token>`, expiring with the lease)
    KEYS[2] the fencing counter, beside the lock (same hash tag)
    ARGV[1] owner (unique per lock object, without ':')   ARGV[2] lease ms
  Output: the value held (`<owner>:<token>`), or false when another owner holds the lock.
  Time: reads no clock (the lease is a PX expiry).
]]
local current = redis.call('GET', KEYS[1])
if current == false then
  local value = ARGV[1] .. ':' .. redis.call('INCR', KEYS[2])
  redis.call('SET', KEYS[1], value, 'PX', ARGV[2])
  return value
end
if string.sub(current, 1, #ARGV[1] + 1) == ARGV[1] .. ':' then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return current
end
return false
