-- The first staff member to claim a waiting call back gets it.
-- KEYS[1]: the call back. ARGV[1]: waiting; ARGV[2]: claimed; ARGV[3]: who; ARGV[4]: when.
-- Returns 1 when claimed.
if redis.call('HGET', KEYS[1], 'state') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'state', ARGV[2], 'claimed_by', ARGV[3], 'claimed_at', ARGV[4])
return 1
