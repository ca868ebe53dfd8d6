--[[
  Frees a lease lock if it still holds the caller's value (a holder whose lease ran out never
  frees its successor's lock). lease-lock.ts.

  Input:  KEYS[1] the lock; ARGV[1] the value held
  Output: 1 freed, 0 not held with that value.
  Time: reads no clock.
]]
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
