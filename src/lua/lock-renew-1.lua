--[[
  Extends a lease lock while it still holds the caller's value. lease-lock.ts.

  Input:  KEYS[1] the lock; ARGV[1] the value held, ARGV[2] lease ms
  Output: 1 extended, 0 the lock is gone or someone else's (expired and taken over).
  Time: reads no clock (the lease is a PX expiry).
]]
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
