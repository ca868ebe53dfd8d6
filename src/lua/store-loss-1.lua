--[[
  Writes the loss record unless one is already there (the first detection says what happened).
  The campaigns set is written by the caller first, in its own step: on a Redis Cluster the two
  keys are in different slots. A reader that sees the record therefore sees its campaigns; both
  steps can be repeated without harm.
  Input:  KEYS[1] loss hash; ARGV[1] reason, ARGV[2] detectedAt (ms), ARGV[3] by (host:pid),
          ARGV[4] previous epoch id ('' for none)
  Output: 1.
  Time: reads no clock; detectedAt comes from the caller.
]]
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('HSET', KEYS[1], 'reason', ARGV[1], 'detectedAt', ARGV[2], 'by', ARGV[3], 'previousEpoch', ARGV[4])
end
return 1
