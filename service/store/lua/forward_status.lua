-- Included by the scripts that move a message's Twilio status (#include forward_status).
-- forward(key, status, code, rank, daily_ttl, day, bc, bc_failed): set status (and error code) unless the
-- message already reached that stage or a later one; rank maps each MessageStatus to its stage. Returns 1
-- when it moved. day, bc and bc_failed: the message's day counters, broadcast hash and broadcast failed
-- set as the caller declared them in KEYS (false when the message has none: see linked).
-- A message counted in the insights (it has a day_key) is counted once, in its furthest status, the
-- moment it first reaches a final stage (delivered, undelivered, failed, canceled: stage 4 or later),
-- whatever order Twilio's callbacks come in.
local FINAL = 4
-- linked(key, field, declared): the key a record names in `field` (its day counters, its broadcast),
-- which the caller read beforehand and declared: false when the record names none, nil when it names
-- another than the one declared (then the script writes nothing and the caller reads again).
local function linked(key, field, declared)
  local name = redis.call('HGET', key, field)
  if not name then return false end
  if name == declared then return declared end
  return nil
end
local function forward(key, status, code, rank, daily_ttl, day, bc, bc_failed)
  local current = redis.call('HGET', key, 'status')
  if current and rank[current] and rank[current] >= rank[status] then return 0 end
  redis.call('HSET', key, 'status', status)
  if code and code ~= '' then redis.call('HSET', key, 'error_code', code) end
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
  if bc and (rank[status] or 0) >= FINAL and not (current and rank[current] and rank[current] >= FINAL) then
    local field = status
    if status == 'read' then field = 'delivered' end
    if status == 'failed' or status == 'canceled' then
      local known = redis.call('HGET', key, 'error_code')
      field = 'failed:' .. ((known and known ~= '') and known or status)
    end
    redis.call('HINCRBY', bc, field, 1)
    if field ~= 'delivered' then redis.call('SADD', bc_failed, redis.call('HGET', key, 'person')) end
  end
  return 1
end
