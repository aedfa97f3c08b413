-- Included by the scripts that move a message's Twilio status (#include forward_status).
-- forward(key, status, code, rank): set status (and error code) unless the message already reached
-- that stage or a later one; rank maps each MessageStatus to its stage. Returns 1 when it moved.
local function forward(key, status, code, rank)
  local current = redis.call('HGET', key, 'status')
  if current and rank[current] and rank[current] >= rank[status] then return 0 end
  redis.call('HSET', key, 'status', status)
  if code and code ~= '' then redis.call('HSET', key, 'error_code', code) end
  return 1
end
