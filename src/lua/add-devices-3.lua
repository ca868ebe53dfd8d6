--[[
  Adds devices to a campaign as queued; ids already there keep their record.
  Input:
    KEYS[1] campaign hash, KEYS[2] devices hash, KEYS[3] counts hash
    ARGV[1..n] machine ids
  Output: { added ids, waiting ids } where waiting = every given id now queued or deferred (new
  ones included): the ids that must have a job. Returning them lets a re-run of an interrupted
  enqueue give jobs to devices recorded before the crash without doubling anything (job ids are
  deterministic, so a job that exists is not added twice).
  A finished campaign that receives new devices runs again.
  Time: reads no clock.
]]
local rcall = redis.call
local campaignKey, devicesKey, countsKey = KEYS[1], KEYS[2], KEYS[3]
if rcall('EXISTS', campaignKey) == 0 then return redis.error_reply('unknown campaign') end

local added, waiting = {}, {}
for i = 1, #ARGV do
  local id = ARGV[i]
  if rcall('HSETNX', devicesKey, id, '{"s":"q"}') == 1 then
    added[#added + 1] = id
    waiting[#waiting + 1] = id
  else
    local s = string.match(rcall('HGET', devicesKey, id), '"s":"(%a)"')
    if s == 'q' or s == 'd' then waiting[#waiting + 1] = id end
  end
end
if #added > 0 then
  rcall('HINCRBY', countsKey, 'queued', #added)
  if rcall('HGET', campaignKey, 'state') == 'finished' then
    rcall('HSET', campaignKey, 'state', 'running')
    rcall('HDEL', campaignKey, 'finishedAt')
  end
end
return { added, waiting }
