-- Included by the scripts that move a message's Twilio status (#include forward_status).
-- forward(key, status, code, rank, daily_ttl): set status (and error code) unless the message already
-- reached that stage or a later one; rank maps each MessageStatus to its stage. Returns 1 when it moved.
-- A message counted in the insights (it has a day_key) is counted once, in its furthest status, the
-- moment it first reaches a final stage (delivered, undelivered, failed, canceled: stage 4 or later),
-- whatever order Twilio's callbacks come in.
local FINAL = 4
local function forward(key, status, code, rank, daily_ttl)
  local current = redis.call('HGET', key, 'status')
  if current and rank[current] and rank[current] >= rank[status] then return 0 end
  redis.call('HSET', key, 'status', status)
  if code and code ~= '' then redis.call('HSET', key, 'error_code', code) end
  local day = redis.call('HGET', key, 'day_key')
  if day and (rank[status] or 0) >= FINAL and not (current and rank[current] and rank[current] >= FINAL) then
    local field = status
    if status == 'read' then field = 'delivered' end
    if status == 'failed' or status == 'canceled' then
      local known = redis.call('HGET', key, 'error_code')
      field = 'failed:' .. ((known and known ~= '') and known or status)
    end
    redis.call('HINCRBY', day, field, 1)
    if field == 'delivered' and redis.call('HGET', key, 'kind') == 'broadcast' then
      redis.call('HINCRBY', day, 'broadcast_delivered', 1)
    end
    redis.call('EXPIRE', day, daily_ttl)
  end
  local bc = redis.call('HGET', key, 'bc_key')
  if bc and (rank[status] or 0) >= FINAL and not (current and rank[current] and rank[current] >= FINAL) then
    local field = status
    if status == 'read' then field = 'delivered' end
    if status == 'failed' or status == 'canceled' then
      local known = redis.call('HGET', key, 'error_code')
      field = 'failed:' .. ((known and known ~= '') and known or status)
    end
    redis.call('HINCRBY', bc, field, 1)
    if field ~= 'delivered' then redis.call('SADD', bc .. ':failed', redis.call('HGET', key, 'person')) end
  end
  return 1
end
