--[[
  Changes a schedule's state only for the holder of the firing lock (KEYS[1] holds its fencing
  token) and only from the version it read (every change bumps it): a stale holder (stalled,
  then replaced), a second step in the same process or a racing `resume`/`apply` makes the step
  fail instead of handling one planned time twice. The history entries of the step (missed,
  skipped) are written in the same call, so none is lost or written twice.
  Input:
    KEYS[1] firing lock, KEYS[2] schedule hash, KEYS[3] history list, KEYS[4] fires-by-outcome hash
    ARGV[1] token, ARGV[2] expected version, ARGV[3] history limit, ARGV[4] number of history
    entries n, then n (outcome, entry JSON) pairs, then field/value pairs
  Output: 1 done, 0 changed meanwhile, -1 not the holder, -2 no such schedule.
  Time: reads no clock (times are the caller's, in the fields).
]]
local rcall = redis.call
if rcall('GET', KEYS[1]) ~= ARGV[1] then return -1 end
if rcall('EXISTS', KEYS[2]) == 0 then return -2 end
if (rcall('HGET', KEYS[2], 'version') or '0') ~= ARGV[2] then return 0 end
rcall('HINCRBY', KEYS[2], 'version', 1)
local entries = tonumber(ARGV[4])
local first = 5 + 2 * entries
for i = first, #ARGV, 2 do rcall('HSET', KEYS[2], ARGV[i], ARGV[i + 1]) end
for i = 5, first - 1, 2 do
  rcall('LPUSH', KEYS[3], ARGV[i + 1])
  rcall('HINCRBY', KEYS[4], ARGV[i], 1)
end
if entries > 0 then rcall('LTRIM', KEYS[3], 0, tonumber(ARGV[3]) - 1) end
return 1
