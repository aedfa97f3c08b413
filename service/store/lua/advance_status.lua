-- A Twilio status callback: moves the message's status forward only. A callback that beat our own
-- record of the send waits in the early hash, which finish_send adopts.
-- KEYS[1]: provider sid -> message id; KEYS[2]: the early hash for this provider sid; KEYS[3]: the inbox
-- version (open conversation pages redraw when it moves).
-- ARGV[1]: status; ARGV[2]: error code or ''; ARGV[3]: JSON status -> stage; ARGV[4]: early hash ttl;
-- ARGV[5]: the message key prefix; ARGV[6]: how long a day's insight counters are kept.
-- Returns 1 when the status moved.
--#include forward_status
local mid = redis.call('GET', KEYS[1])
local key = mid and (ARGV[5] .. mid) or KEYS[2]
local moved = forward(key, ARGV[1], ARGV[2], cjson.decode(ARGV[3]), ARGV[6])
if not mid then redis.call('EXPIRE', key, ARGV[4]) elseif moved == 1 then redis.call('INCR', KEYS[3]) end
return moved
