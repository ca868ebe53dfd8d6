--[[
  Creates a campaign unless one with that id exists (a re-run of `fleetscan scan --campaign-id`).
  Input:  KEYS[1] campaign hash, KEYS[2] campaigns ZSET; ARGV[1] createdAt,
          ARGV[2] 1: its records may be incomplete (a re-run recreating a lost campaign), else 0,
          ARGV[3..] field, value, ...
  Output: 1 created, 0 already there.
  `run` is the Redis server's run_id: transition-3.lua compares it before every call, so a
  restart (and with it a rollback of the last writes) is seen by the first device of the campaign.
]]
local rcall = redis.call
if rcall('EXISTS', KEYS[1]) == 1 then return 0 end
local run = string.match(rcall('INFO', 'server'), 'run_id:(%w+)')
rcall('HSET', KEYS[1], 'state', 'running', 'run', run, unpack(ARGV, 3))
if ARGV[2] == '1' then rcall('HSET', KEYS[1], 'reconcile', 1) end
rcall('ZADD', KEYS[2], ARGV[1], rcall('HGET', KEYS[1], 'id'))
return 1
