-- Applies a batch of write commands atomically (service/store/batch.py).
-- KEYS: none (the keys travel inside the commands: fine on one Redis or Sentinel, not on Redis Cluster).
-- ARGV: the commands back to back, each as its word count followed by its words.
-- Returns the number of arguments read.
local i, n = 1, #ARGV
while i <= n do
  local count = tonumber(ARGV[i])
  redis.call(unpack(ARGV, i + 1, i + count))
  i = i + count + 1
end
return n
