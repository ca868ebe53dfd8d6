--[[
  Bulk MachineAction status refresh from one List MachineActions call: a device's status
  changes only where the action id matches the one recorded for it.
  Input:  KEYS[1] devices hash; ARGV = machineId, actionId, status, machineId, actionId, ...
  Output: how many devices changed.
  Time: reads no clock.
]]
--- @include "includes/refresh-status"
local changed = 0
for i = 1, #ARGV, 3 do
  changed = changed + refreshStatus(KEYS[1], ARGV[i], ARGV[i + 1], ARGV[i + 2], '')
end
return changed
