-- The global outbound pace, on Redis's clock: each send starts at least `interval` after the previous
-- reservation, so any 1 s window holds at most the cap.
-- KEYS[1]: the latest reservation. ARGV[1]: interval (s); ARGV[2]: horizon (s).
-- Returns seconds to wait, as a string; negative when no slot exists within the horizon.
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local last = tonumber(redis.call('GET', KEYS[1]) or '0')
local start = math.max(now, last + tonumber(ARGV[1]))
if start - now > tonumber(ARGV[2]) then return tostring(-(start - now)) end
redis.call('SET', KEYS[1], string.format('%.6f', start), 'PX', math.ceil((start - now) * 1000) + 60000)
return tostring(start - now)
