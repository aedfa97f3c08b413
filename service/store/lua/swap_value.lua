-- Replaces one stored value only if it is still the one read (key rotation re-encrypts values while the
-- service keeps writing: a value changed meanwhile is left for the next pass, never overwritten).
-- KEYS[1]: the key. ARGV[1]: 'hash', 'list' or 'string'; ARGV[2]: the field or list index ('' for a
-- string); ARGV[3]: the value read; ARGV[4]: the new value.
-- Returns 1 when replaced.
local current
if ARGV[1] == 'hash' then
  current = redis.call('HGET', KEYS[1], ARGV[2])
elseif ARGV[1] == 'list' then
  current = redis.call('LINDEX', KEYS[1], tonumber(ARGV[2]))
else
  current = redis.call('GET', KEYS[1])
end
if current ~= ARGV[3] then return 0 end
if ARGV[1] == 'hash' then
  redis.call('HSET', KEYS[1], ARGV[2], ARGV[4])
elseif ARGV[1] == 'list' then
  redis.call('LSET', KEYS[1], tonumber(ARGV[2]), ARGV[4])
else
  redis.call('SET', KEYS[1], ARGV[4], 'KEEPTTL')
end
return 1
