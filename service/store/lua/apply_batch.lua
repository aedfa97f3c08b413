-- Applies a batch of write commands atomically (service/store/batch.py).
-- KEYS: every key the batch touches, each once.
-- ARGV: the commands back to back, each as its word count, its name, the index in KEYS of its one key,
-- then its other words. The first may be a guard, `4 GUARD index field expected`: the batch applies only
-- while that hash field still holds `expected` ('' for absent), the value its writer read.
-- Returns the number of arguments read, or -1 when the guard refused (nothing written).
local i, n = 1, #ARGV
if ARGV[2] == 'GUARD' then
  if (redis.call('HGET', KEYS[tonumber(ARGV[3])], ARGV[4]) or '') ~= ARGV[5] then return -1 end
  i = 6
end
while i <= n do
  local count = tonumber(ARGV[i])
  redis.call(ARGV[i + 1], KEYS[tonumber(ARGV[i + 2])], unpack(ARGV, i + 3, i + count))
  i = i + count + 1
end
return n
