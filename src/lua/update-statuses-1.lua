--[[
  Bulk MachineAction status refresh from one List MachineActions call: a device's status
  changes only where the action id matches the one recorded for it.
  Input:  KEYS[1] devices hash; ARGV = machineId, actionId, status, machineId, actionId, ...
  Output: how many devices changed.
  Time: reads no clock.
]]
local rcall = redis.call
local devicesKey = KEYS[1]
local changed = 0
for i = 1, #ARGV, 3 do
  local json = rcall('HGET', devicesKey, ARGV[i])
  if json then
    local d = cjson.decode(json)
    if d.a == ARGV[i + 1] and d.v ~= ARGV[i + 2] then
      d.v = ARGV[i + 2]
      rcall('HSET', devicesKey, ARGV[i], cjson.encode(d))
      changed = changed + 1
    end
  end
end
return changed
