--[[
  Creates a campaign unless one with that id exists (a re-run of `fleetscan scan --campaign-id`).
  Input:  KEYS[1] campaign hash, KEYS[2] campaigns ZSET; ARGV[1] createdAt, ARGV[2..] field, value, ...
  Output: 1 created, 0 already there.
]]
local rcall = redis.call
if rcall('EXISTS', KEYS[1]) == 1 then return 0 end
rcall('HSET', KEYS[1], 'state', 'running', unpack(ARGV, 2))
rcall('ZADD', KEYS[2], ARGV[1], rcall('HGET', KEYS[1], 'id'))
return 1
