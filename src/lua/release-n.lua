--[[
  Gives a slot back: only for a call that certainly never left the process. Removes it from
  the in-flight set and from every window log (acquire-n.lua may have moved it there when
  its lease ran out). "-n": 1 + one key per window.

  Input:
    KEYS[1]    in-flight slots: ZSET member -> grant time
    KEYS[2..]  one log per window: ZSET member -> stamp

    ARGV[1]    member id

  Output:
    1 if the slot was found anywhere, else 0
  Time: reads no clock.
]]
local rcall = redis.call

local removed = rcall('ZREM', KEYS[1], ARGV[1])
for w = 2, #KEYS do
  removed = removed + rcall('ZREM', KEYS[w], ARGV[1])
end
if removed > 0 then
  return 1
end
return 0
