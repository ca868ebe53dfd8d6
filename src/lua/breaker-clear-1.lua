--[[
  Ends a budget's block (a probe's call was accepted) and wakes every dispatcher.
  Input:  KEYS[1] breaker hash; ARGV[1] wake channel, ARGV[2] the budget's tag (the message)
  Output: the cleared hash (flat field, value list), or empty when it was not blocked.
  Time: reads no clock.
]]
local state = redis.call('HGETALL', KEYS[1])
if #state > 0 then
  redis.call('DEL', KEYS[1])
  redis.call('PUBLISH', ARGV[1], ARGV[2])
end
return state
