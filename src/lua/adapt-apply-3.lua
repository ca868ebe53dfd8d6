--[[
  Adaptive budget (issue 17): writes a decision of the adjustment rule if nobody else wrote
  one since it was read (compare-and-set on the version), so processes that see the same 429
  storm apply it once. Mirrors the effective caps into the caps hash that acquire-n.lua (and
  any other dispatcher) reads; after a decrease, the known-good levels drop to the new caps
  and the verified levels (adapt-read-n.lua) are forgotten: the server refused a level it had
  accepted. `lowered` in the caps hash tells adapt-read-n.lua not to verify while any cap is
  below the configured one. The windows are fields.

  Input:
    KEYS[1]    adaptive state: HASH v (version), state (JSON)
    KEYS[2]    effective caps: HASH windowMs -> cap, `verified:<windowMs>` -> level, `lowered`
    KEYS[3]    known-good levels: HASH windowMs -> count

    ARGV[1]    version the decision was made from
    ARGV[2]    new state (JSON)
    ARGV[3]    TTL of the state, ms; the caps hash gets it on a decrease and is never shortened
               otherwise (it may hold verified levels, kept longer by adapt-read-n.lua)
    ARGV[4]    1: the caps were lowered, 0: not
    ARGV[5]    1: some cap is below the configured one after this decision, 0: none
    ARGV[6..]  windowMs, effective cap for each window

  Output:
    1 written, 0 someone else wrote first (read again and decide again)
  Time: reads no clock (TTLs come from the caller).
]]
local rcall = redis.call

local version = tonumber(rcall('HGET', KEYS[1], 'v')) or 0
if version ~= tonumber(ARGV[1]) then
  return 0
end
rcall('HSET', KEYS[1], 'v', version + 1, 'state', ARGV[2])
rcall('HSET', KEYS[2], 'lowered', ARGV[5])
for i = 6, #ARGV, 2 do
  rcall('HSET', KEYS[2], ARGV[i], ARGV[i + 1])
  if ARGV[4] == '1' then
    rcall('HDEL', KEYS[2], 'verified:' .. ARGV[i])
    local good = tonumber(rcall('HGET', KEYS[3], ARGV[i]))
    if good and good > tonumber(ARGV[i + 1]) then
      rcall('HSET', KEYS[3], ARGV[i], ARGV[i + 1])
    end
  end
end
local ttl = tonumber(ARGV[3])
rcall('PEXPIRE', KEYS[1], ttl)
-- Lowered caps must not outlive the state that explains them; configured ones may.
if ARGV[4] == '1' or rcall('PTTL', KEYS[2]) < ttl then
  rcall('PEXPIRE', KEYS[2], ttl)
end
return 1
