--[[
  The scripts' one clock. Production: Redis TIME, so hosts with skewed clocks share one
  timeline (writing after TIME needs Redis >= 5, effects replication, as BullMQ does). Tests with
  simulated time pass nowMs as an argument instead; keys then get 60 s of TTL slack (`slack`),
  because simulated time may run slower than the clock Redis expires keys by.
]]

-- Redis TIME in whole ms.
local function redisTimeMs()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- nowMs from the argument when it is a number (tests), else Redis TIME; and the TTL slack.
local function scriptNow(arg)
  local now = tonumber(arg)
  if now then return now, 60000 end
  return redisTimeMs(), 0
end
