--[[
  Sets lifecycle fields on existing device records (cancel result, proof of completion,
  threats found):
  each patch is a flat JSON object whose string values replace the record's fields of the
  same name; an empty string removes the field. Devices not in the campaign are skipped.
  Only the lifecycle fields may be patched, so a caller can never change a device's state.
  Input:  KEYS[1] devices hash; ARGV = machineId, patch JSON, machineId, patch JSON, ...
  Output: how many records changed.
  Time: reads no clock.
]]
local rcall = redis.call
local allowed = { k = true, p = true, pt = true, pk = true, h = true }
local changed = 0
for i = 1, #ARGV, 2 do
  local json = rcall('HGET', KEYS[1], ARGV[i])
  if json then
    local d = cjson.decode(json)
    local patch = cjson.decode(ARGV[i + 1])
    local dirty = false
    for field, value in pairs(patch) do
      if not allowed[field] then return redis.error_reply('field not patchable: ' .. field) end
      if value == '' then value = nil end
      if d[field] ~= value then
        d[field] = value
        dirty = true
      end
    end
    if dirty then
      rcall('HSET', KEYS[1], ARGV[i], cjson.encode(d))
      changed = changed + 1
    end
  end
end
return changed
