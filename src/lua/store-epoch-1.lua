--[[
  Creates the store's epoch when absent (issue 9): an id from the server's run_id and the time,
  written once per store; every process compares it with the one it saw before.
  Input:  KEYS[1] epoch hash (id, createdAt)
  Output: { id, createdAt } after the call.
  Time: Redis TIME (one clock for every host).
]]
--- @include "includes/script-now"
if redis.call('EXISTS', KEYS[1]) == 0 then
  local run = string.match(redis.call('INFO', 'server'), 'run_id:(%w+)')
  local ms = redisTimeMs()
  redis.call('HSET', KEYS[1], 'id', string.sub(run, 1, 12) .. '-' .. ms, 'createdAt', ms)
end
return redis.call('HMGET', KEYS[1], 'id', 'createdAt')
