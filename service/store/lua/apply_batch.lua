-- Applies a batch of write commands atomically (service/store/batch.py).
-- KEYS: none (the keys travel inside the commands: fine on one Redis or Sentinel, not on Redis Cluster).
-- ARGV: the commands back to back, each as its word count followed by its words. The first may be a
-- guard, `4 GUARD key field expected`: the batch applies only while that hash field still holds
-- `expected` ('' for absent), the value its writer read.
-- Returns the number of arguments read, or -1 when the guard refused (nothing written).
local i, n = 1, #ARGV
if ARGV[2] == 'GUARD' then
  if (redis.call('HGET', ARGV[3], ARGV[4]) or '') ~= ARGV[5] then return -1 end
  i = 6
end
while i <= n do
  local count = tonumber(ARGV[i])
  redis.call(unpack(ARGV, i + 1, i + count))
  i = i + count + 1
end
return n
