-- Drops seen-markers (MessageSid digest -> day handled) older than a day, in a batch of buckets, on the
-- server: a missing bucket costs nothing and no marker crosses the network.
-- KEYS: the seen buckets (hashes).
-- ARGV[1]: the first day kept (markers with a smaller day go).
-- Returns how many markers were dropped.
local first_kept, dropped = tonumber(ARGV[1]), 0
for _, key in ipairs(KEYS) do
  local entries = redis.call('HGETALL', key)
  local stale = {}
  for i = 1, #entries, 2 do
    if tonumber(entries[i + 1]) < first_kept then
      stale[#stale + 1] = entries[i]
    end
  end
  for i = 1, #stale, 1000 do
    dropped = dropped + redis.call('HDEL', key, unpack(stale, i, math.min(i + 999, #stale)))
  end
end
return dropped
