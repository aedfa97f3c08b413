-- Moves one person from an old person key to a new one (PHONE_HASH_KEY rotation), atomically, so a
-- text arriving meanwhile sees the person either all before or all after the move.
-- KEYS[1..8]: the old person's contact, transcript, consent trail, records index, replies, crisis
-- replies, tombstone, staff notes; KEYS[9..16]: the same for the new key; KEYS[17]: recent list;
-- KEYS[18]: oldest-record index; KEYS[19]: the follow-ups due set; KEYS[20]: held conversations;
-- KEYS[21]: the contacts index; KEYS[22]: people before staff (attention); KEYS[23]: the journeys due set;
-- KEYS[24..]: the records the old person's records index listed when the caller read it.
-- ARGV[1]: old person key; ARGV[2]: new person key; ARGV[3]: the contact field listing pending
-- follow-up ids (each starts with the person key); ARGV[4]: now; ARGV[5]: the contact field of what a
-- staff hold paused (JSON: id -> when it came due; ids start with the person key, a timeout's is the key);
-- ARGV[6]: the contact field listing planned journey event ids (each starts with the person key).
-- Returns 'moved', 'absent' (nothing under the old key), 'conflict' (both keys hold a contact) or 'retry'
-- (the records index lists a record not declared: nothing written, the caller reads again).
local N = 8
local declared = {}
for i = 3 * N, #KEYS do declared[KEYS[i]] = true end
for _, record in ipairs(redis.call('SMEMBERS', KEYS[4])) do
  if not declared[record] then return 'retry' end
end
if redis.call('EXISTS', KEYS[1]) == 1 and redis.call('EXISTS', KEYS[N + 1]) == 1 then return 'conflict' end
local moved = false
for i = 1, N do
  if redis.call('EXISTS', KEYS[i]) == 1 then
    redis.call('RENAME', KEYS[i], KEYS[i + N])
    moved = true
  end
end
-- the due set holds the bare person key for a question's timeout
for _, index in ipairs({KEYS[2 * N + 1], KEYS[2 * N + 2], KEYS[2 * N + 3], KEYS[2 * N + 4], KEYS[2 * N + 5],
                        KEYS[2 * N + 6]}) do
  local score = redis.call('ZSCORE', index, ARGV[1])
  if score then
    redis.call('ZREM', index, ARGV[1])
    redis.call('ZADD', index, score, ARGV[2])
    moved = true
  end
end
if not moved then return 'absent' end
-- pending follow-ups and planned journey events: ids that start with the person key, in a due set
for _, list in ipairs({{ARGV[3], KEYS[2 * N + 3]}, {ARGV[6], KEYS[2 * N + 7]}}) do
  local pending = redis.call('HGET', KEYS[N + 1], list[1])
  if pending then
    local renamed = {}
    for id in string.gmatch(pending, '%S+') do
      local new_id = ARGV[2] .. string.sub(id, #ARGV[1] + 1)
      local due = redis.call('ZSCORE', list[2], id)
      redis.call('ZREM', list[2], id)
      -- not in the due set: its job is queued under the old id, which will find nothing; due now instead
      redis.call('ZADD', list[2], due or ARGV[4], new_id)
      table.insert(renamed, new_id)
    end
    redis.call('HSET', KEYS[N + 1], list[1], table.concat(renamed, ' '))
  end
end
local paused = redis.call('HGET', KEYS[N + 1], ARGV[5])
if paused then
  local renamed = {}
  for id, due in pairs(cjson.decode(paused)) do
    if string.sub(id, 1, #ARGV[1]) == ARGV[1] then id = ARGV[2] .. string.sub(id, #ARGV[1] + 1) end
    renamed[id] = due
  end
  redis.call('HSET', KEYS[N + 1], ARGV[5], cjson.encode(renamed))
end
if redis.call('EXISTS', KEYS[N + 1]) == 1 then
  redis.call('HINCRBY', KEYS[N + 1], 'rev', 1)  -- a text read before the move decides again (inbound.guard)
end
for i = 3 * N, #KEYS do
  -- only the person's own records: a staff alert their text caused is listed too, but is nobody's
  if redis.call('HGET', KEYS[i], 'person') == ARGV[1] then redis.call('HSET', KEYS[i], 'person', ARGV[2]) end
end
return 'moved'
