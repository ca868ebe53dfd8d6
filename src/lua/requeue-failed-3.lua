--[[
  Moves failed devices of a campaign back to queued (`fleetscan retry`, POST .../retry), keeping
  the per-state and per-reason counts exact. A device keeps its attempts and its in-flight marker
  (`x`, sentAt): if an earlier call may have reached the API, the worker looks the action up
  before calling again, so a retry never doubles a scan that did go out.
  Input:
    KEYS[1] campaign hash, KEYS[2] devices hash, KEYS[3] counts hash
    ARGV[1..n] machine ids (ids that are not failed, or unknown, are left alone)
  Output: { moved ids, how many of them carry the in-flight marker }; false for an unknown campaign.
  Time: reads no clock.
]]
local rcall = redis.call
local campaignKey, devicesKey, countsKey = KEYS[1], KEYS[2], KEYS[3]
if rcall('EXISTS', campaignKey) == 0 then return false end

local moved, marked = {}, 0
for i = 1, #ARGV do
  local machineId = ARGV[i]
  local json = rcall('HGET', devicesKey, machineId)
  if json then
    local d = cjson.decode(json)
    if d.s == 'f' then
      if d.r then
        local field = 'fail:' .. d.r
        if rcall('HINCRBY', countsKey, field, -1) <= 0 then rcall('HDEL', countsKey, field) end
        d.r = nil
      end
      d.s = 'q'
      d.u = nil
      if d.x then marked = marked + 1 end
      rcall('HSET', devicesKey, machineId, cjson.encode(d))
      rcall('HINCRBY', countsKey, 'failed', -1)
      rcall('HINCRBY', countsKey, 'queued', 1)
      moved[#moved + 1] = machineId
    end
  end
end
return { moved, marked }
