-- The last Redis call before the provider call: queued -> sending, so of two racing workers only one
-- sends, and never to someone who opted out or whose number can't take texts, nor a bot's follow-up to
-- someone a staff member took over meanwhile (-> skipped), or who was erased (the record is deleted: an
-- erasure can miss a message created while it ran) while the worker waited for its send slot.
-- A broadcast's text is not sent once its broadcast was canceled or expired.
-- KEYS[1]: the message; KEYS[2]: the broadcast its record names (bc_key; KEYS[1] when none), which the
-- caller read beforehand; KEYS[3] (optional): the person's contact record.
-- ARGV[1]: queued; ARGV[2]: sending; ARGV[3]: skipped; ARGV[4]: the opted-out consent state;
-- ARGV[5]: now (the caller's clock).
-- Returns 0 when not queued (taken), 1 when claimed, 2 when refused, -1 when the record names another
-- broadcast than declared (the caller reads again; nothing written). claimed_at lets the alert sweeper
-- tell a stalled claim from a call in flight.
if redis.call('HGET', KEYS[1], 'state') ~= ARGV[1] then return 0 end
local named = redis.call('HGET', KEYS[1], 'bc_key')
if named and named ~= KEYS[2] then return -1 end
if KEYS[3] then
  if redis.call('HEXISTS', KEYS[3], 'phone') == 0 then
    redis.call('DEL', KEYS[1])
    return 2
  end
  local kind = redis.call('HGET', KEYS[1], 'kind')
  local held = (kind == 'followup' or kind == 'broadcast') and redis.call('HEXISTS', KEYS[3], 'held_by') == 1
  if named then
    local status = redis.call('HGET', KEYS[2], 'status')
    if status == 'canceled' or status == 'expired' then held = true end
  end
  if held or redis.call('HGET', KEYS[3], 'consent') == ARGV[4] or redis.call('HEXISTS', KEYS[3], 'undeliverable') == 1 then
    redis.call('HSET', KEYS[1], 'state', ARGV[3])
    return 2
  end
end
redis.call('HSET', KEYS[1], 'state', ARGV[2], 'claimed_at', ARGV[5])
return 1
