--[[
  A device's MachineAction status from a listing (update-statuses-1.lua, track-statuses-2.lua):
  changes only where the action id matches the one recorded for the device, and only when the
  status (or, given, the lastUpdate) differs. Returns 1 changed, 0 not.
]]
local function refreshStatus(devicesKey, machineId, actionId, status, updated)
  local json = redis.call('HGET', devicesKey, machineId)
  if not json then return 0 end
  local d = cjson.decode(json)
  if d.a ~= actionId or (d.v == status and (updated == '' or d.w == updated)) then return 0 end
  d.v = status
  if updated ~= '' then d.w = updated end
  redis.call('HSET', devicesKey, machineId, cjson.encode(d))
  return 1
end
