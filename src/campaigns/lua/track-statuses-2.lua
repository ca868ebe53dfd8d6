--[[
  Fenced bulk refresh of MachineAction statuses from the tracker's listing pass: writes only
  while the caller still holds the tracker lock (its value carries the fencing token), so a
  tracker whose lock expired mid-round can never overwrite what its successor wrote.
  A device changes only where the action id matches the one recorded for it.
  Input:  KEYS[1] devices hash, KEYS[2] tracker lock
          ARGV[1] lock value; then machineId, actionId, status, lastUpdate (ISO), repeated
  Output: how many devices changed, or -1 when the lock is not (or no longer) the caller's.
]]
local rcall = redis.call
if rcall('GET', KEYS[2]) ~= ARGV[1] then return -1 end
local devicesKey = KEYS[1]
local changed = 0
for i = 2, #ARGV, 4 do
  local json = rcall('HGET', devicesKey, ARGV[i])
  if json then
    local d = cjson.decode(json)
    local updated = ARGV[i + 3]
    if d.a == ARGV[i + 1] and (d.v ~= ARGV[i + 2] or (updated ~= '' and d.w ~= updated)) then
      d.v = ARGV[i + 2]
      if updated ~= '' then d.w = updated end
      rcall('HSET', devicesKey, ARGV[i], cjson.encode(d))
      changed = changed + 1
    end
  end
end
return changed
