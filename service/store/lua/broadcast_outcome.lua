-- A broadcast recipient's outcome when no message record carries it (held back at send time, skipped,
-- erased while waiting): counted once however often its job runs, since it is counted only by the call
-- that takes the recipient out of the broadcast's in-flight set (finish_send takes it for a sent text).
-- KEYS[1]: the broadcast's in-flight set; KEYS[2]: the broadcast hash.
-- ARGV[1]: the person key; ARGV[2..]: counter fields, each +1.
-- Returns 1 when counted, 0 when it was counted already.
if redis.call('ZREM', KEYS[1], ARGV[1]) == 0 then return 0 end
for i = 2, #ARGV do redis.call('HINCRBY', KEYS[2], ARGV[i], 1) end
return 1
