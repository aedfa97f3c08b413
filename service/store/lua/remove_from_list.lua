-- Removes one id from a space-separated list held in a hash field (a person's pending follow-ups).
-- KEYS[1]: the hash (the person's contact record).
-- ARGV[1]: the field; ARGV[2]: the id to remove.
-- Returns 1 when the field existed.
local value = redis.call('HGET', KEYS[1], ARGV[1])
if not value then return 0 end
local kept = {}
for id in string.gmatch(value, '%S+') do
  if id ~= ARGV[2] then table.insert(kept, id) end
end
if #kept == 0 then
  redis.call('HDEL', KEYS[1], ARGV[1])
else
  redis.call('HSET', KEYS[1], ARGV[1], table.concat(kept, ' '))
end
return 1
