-- The outcome of a send, in one step, and only while the record exists (an erasure that landed
-- meanwhile is not undone); adopts any status callback that arrived before it.
-- KEYS[1]: the message; KEYS[2]: outcome counters; KEYS[3]: pending staff alerts;
-- KEYS[4]: provider sid -> message id; KEYS[5]: the early status hash; KEYS[6]: the inbox version (open
-- conversation pages redraw when it moves).
-- ARGV[1]: state; ARGV[2]: provider sid or ''; ARGV[3]: error code or ''; ARGV[4]: counter field;
-- ARGV[5]: message id; ARGV[6]: mapping ttl; ARGV[7]: JSON status -> stage; ARGV[8]: how long the
-- finished record is kept (the retention period); ARGV[9]: how long a day's insight counters are kept
-- (its sketch of people no longer than the retention period).
-- KEYS[7], KEYS[8]: the day's counters the record names (day_key) and its sketch of people texted;
-- KEYS[9], KEYS[10], KEYS[11]: the broadcast the record names (bc_key), its in-flight and failed sets
-- (KEYS[1] in their place when the record names none).
-- Returns 1 when written, 0 when the record is gone, -1 when it names other keys than declared (the
-- caller reads it again; nothing written).
--#include forward_status
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local day, bc = linked(KEYS[1], 'day_key', KEYS[7]), linked(KEYS[1], 'bc_key', KEYS[9])
if day == nil or bc == nil then return -1 end
local linked_bc = bc
redis.call('HSET', KEYS[1], 'state', ARGV[1], 'provider_sid', ARGV[2], 'error_code', ARGV[3])
redis.call('HINCRBY', KEYS[2], ARGV[4], 1)
redis.call('ZREM', KEYS[3], ARGV[5])
redis.call('EXPIRE', KEYS[1], ARGV[8])
redis.call('INCR', KEYS[6])
local person = redis.call('HGET', KEYS[1], 'person')
if bc and person and redis.call('ZREM', KEYS[10], person) == 0 then
  bc = false  -- its outcome was counted already (store/lua/broadcast_outcome.lua)
end
if bc then  -- a broadcast's funnel: every outcome once; a refused send is failed by its code
  redis.call('HINCRBY', bc, 'out:' .. ARGV[1], 1)
  if ARGV[1] == 'sent' then redis.call('HINCRBY', bc, 'sent', 1)
  elseif ARGV[3] ~= '' then
    redis.call('HINCRBY', bc, 'failed:' .. ARGV[3], 1)
    redis.call('SADD', KEYS[11], person)
  end
  if day and ARGV[1] == 'sent' then redis.call('HINCRBY', day, 'broadcast_sent', 1) end
end
if day and ARGV[1] == 'sent' then  -- the insights: sent; a follow-up sent, so the person got an automatic text
  redis.call('HINCRBY', day, 'sent', 1)
  if redis.call('HGET', KEYS[1], 'kind') == 'followup' then
    redis.call('HINCRBY', day, 'followups_sent', 1)
    if person and person ~= '' then
      redis.call('PFADD', KEYS[8], person)
      redis.call('EXPIRE', KEYS[8], math.min(tonumber(ARGV[9]), tonumber(ARGV[8])))
    end
  end
  redis.call('EXPIRE', day, ARGV[9])
elseif day and ARGV[3] ~= '' then  -- refused by Twilio's API (21610, 21211, ...): failed, by its code
  redis.call('HINCRBY', day, 'failed:' .. ARGV[3], 1)
  redis.call('EXPIRE', day, ARGV[9])
end
if ARGV[2] ~= '' then
  redis.call('SET', KEYS[4], ARGV[5], 'EX', ARGV[6])
  local early = redis.call('HMGET', KEYS[5], 'status', 'error_code')
  if early[1] then forward(KEYS[1], early[1], early[2], cjson.decode(ARGV[7]), ARGV[9], day, linked_bc, KEYS[11]) end
  redis.call('DEL', KEYS[5])
end
return 1
