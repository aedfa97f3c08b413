-- Removes dispatched follow-up ids from the due set, only those whose due time is still the one taken:
-- an id a fast worker already deferred (re-added with a later time) stays scheduled.
-- KEYS[1]: the due sorted set.
-- ARGV: id, due time as taken, id, due time, ...
-- Returns how many were removed.
local removed = 0
for i = 1, #ARGV, 2 do
  local score = redis.call('ZSCORE', KEYS[1], ARGV[i])
  if score and tonumber(score) == tonumber(ARGV[i + 1]) then
    removed = removed + redis.call('ZREM', KEYS[1], ARGV[i])
  end
end
return removed
