-- Moves a record's state only from the state its caller holds: a duplicate job cannot overwrite
-- another worker's send, and a released claim cannot recreate an erased record.
-- KEYS[1]: the record. ARGV[1]: from; ARGV[2]: to.
-- Returns 1 when moved.
if redis.call('HGET', KEYS[1], 'state') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'state', ARGV[2])
return 1
