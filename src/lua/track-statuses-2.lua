--[[
  Fenced bulk refresh of MachineAction statuses from the tracker's listing pass, so a tracker
  whose lock expired mid-round can never overwrite what its successor wrote. The fence lives
  beside the campaign (KEYS[2], highest token seen per lock), not in the lock: on a Redis
  Cluster the lock and the campaign are in different slots, and one script may touch one slot
  only. A write with a token lower than one the campaign has seen is refused; the caller checks
  that it still holds the lock just before (fenced-write.ts).
  A device changes only where the action id matches the one recorded for it.
  Input:  KEYS[1] devices hash, KEYS[2] the campaign's fences (HASH lock key -> token)
          ARGV[1] lock key, ARGV[2] lock value (`owner:token`);
          then machineId, actionId, status, lastUpdate (ISO), repeated
  Output: how many devices changed, or -1 when a later holder of the lock has written here.
  Time: reads no clock; lastUpdate comes from the API.
]]
--- @include "includes/tracker-fence"
--- @include "includes/refresh-status"
if not trackerFenceHolds(KEYS[2], ARGV[1], ARGV[2]) then return -1 end
local changed = 0
for i = 3, #ARGV, 4 do
  changed = changed + refreshStatus(KEYS[1], ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3])
end
return changed
