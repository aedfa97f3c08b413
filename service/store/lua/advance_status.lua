-- A Twilio status callback: moves the message's status forward only. A callback that beat our own
-- record of the send waits in the early hash, which finish_send adopts.
-- KEYS[1]: provider sid -> message id; KEYS[2]: the early hash for this provider sid; KEYS[3]: the inbox
-- version (open conversation pages redraw when it moves); KEYS[4]: the message the mapping named when the
-- caller read it (KEYS[2] when none); KEYS[5]: the day's counters that message names (day_key); KEYS[6],
-- KEYS[7]: the broadcast it names (bc_key) and its failed set (KEYS[4] in their place when it names none).
-- ARGV[1]: status; ARGV[2]: error code or ''; ARGV[3]: JSON status -> stage; ARGV[4]: early hash ttl;
-- ARGV[5]: the message id the caller read from the mapping ('' for none); ARGV[6]: how long a day's
-- insight counters are kept.
-- Returns 1 when the status moved, 0 when not, -1 when the mapping or the message names other keys than
-- declared (the caller reads again; nothing written).
--#include forward_status
local mid = redis.call('GET', KEYS[1])
if (mid or '') ~= ARGV[5] then return -1 end
local key, day, bc = KEYS[4], false, false
if mid then
  day, bc = linked(key, 'day_key', KEYS[5]), linked(key, 'bc_key', KEYS[6])
  if day == nil or bc == nil then return -1 end
end
local moved = forward(key, ARGV[1], ARGV[2], cjson.decode(ARGV[3]), ARGV[6], day, bc, KEYS[7])
if not mid then redis.call('EXPIRE', key, ARGV[4]) elseif moved == 1 then redis.call('INCR', KEYS[3]) end
return moved
