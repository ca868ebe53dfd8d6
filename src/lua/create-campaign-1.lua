--[[
  Creates a campaign unless one with that id exists (a re-run of `fleetscan scan --campaign-id`).
  The campaigns ZSET (the index) is not written here: on a Redis Cluster it is in another slot
  than the campaign, and one script may touch one slot only. The caller adds the id to it
  first (ZADD NX), so a crash in between leaves an id without a campaign, which every reader
  skips, and a re-run completes it; never a campaign missing from the list.
  Input:  KEYS[1] campaign hash; ARGV[1] createdAt (unused here, kept for the ARGV layout),
          ARGV[2] 1: its records may be incomplete (a re-run recreating a lost campaign), else 0,
          ARGV[3..] field, value, ...
  Output: 1 created, 0 already there.
  `run` is the Redis server's run_id: transition-3.lua compares it before every call, so a
  restart (and with it a rollback of the last writes) is seen by the first device of the campaign.
  Time: reads no clock; createdAt comes from the caller.
]]
local rcall = redis.call
if rcall('EXISTS', KEYS[1]) == 1 then return 0 end
local run = string.match(rcall('INFO', 'server'), 'run_id:(%w+)')
rcall('HSET', KEYS[1], 'state', 'running', 'run', run, unpack(ARGV, 3))
if ARGV[2] == '1' then rcall('HSET', KEYS[1], 'reconcile', 1) end
return 1
