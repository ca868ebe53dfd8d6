--[[
  A campaign's place in its budget's line: its class, paused or not, or gone (cancelled).
  Paused and gone campaigns are in no round-robin set, so dispatch skips them in O(1); their
  devices stay (paused) or are dropped (gone; due and in-progress ones are dropped when they
  come up). All keys are under the budget's hash tag.

  Input:
    KEYS[1] lane campaigns (HASH)  KEYS[2..4] round-robin urgent, normal, background
    KEYS[5] the campaign's ready set
    ARGV[1] campaign id  ARGV[2] run | pause | drop  ARGV[3] class (run, pause; '' keeps the
    current one)  ARGV[4] wake channel  ARGV[5] wake message
  Output: the stored value after the call ('' when gone).
  Time: reads no clock.
]]
local rcall = redis.call
local campaignsKey, readyKey = KEYS[1], KEYS[5]
local rr = { urgent = KEYS[2], normal = KEYS[3], background = KEYS[4] }
local cid, op, class = ARGV[1], ARGV[2], ARGV[3]
for _, key in pairs(rr) do rcall('ZREM', key, cid) end
if op == 'drop' then
  rcall('HDEL', campaignsKey, cid)
  rcall('UNLINK', readyKey) -- a 200,000-device line is freed in the background
  return ''
end
local current = rcall('HGET', campaignsKey, cid) or 'normal'
if class == '' then class = string.gsub(current, '^p:', '') end
if not rr[class] then return redis.error_reply('unknown class ' .. tostring(class)) end
if op == 'pause' then
  rcall('HSET', campaignsKey, cid, 'p:' .. class)
  return 'p:' .. class
end
if op ~= 'run' then return redis.error_reply('unknown operation ' .. tostring(op)) end
rcall('HSET', campaignsKey, cid, class)
if rcall('EXISTS', readyKey) == 1 then
  rcall('ZADD', rr[class], 'NX', rcall('HINCRBY', campaignsKey, '~turn', 0), cid)
  rcall('PUBLISH', ARGV[4], ARGV[5])
end
return class
