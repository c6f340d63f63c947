-- GCRA (generic cell rate algorithm), atomically in Redis.
-- KEYS[1]: the counter key. ARGV[1]: emission interval in microseconds (window / limit).
-- ARGV[2]: the limit (requests per window, also the burst).
-- The key holds the theoretical arrival time (TAT) in microseconds of Redis' own clock, so
-- every replica shares one clock. Returns {allowed (0|1), remaining, retry_after_us, reset_us}.
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
local interval = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local window = interval * limit

local tat = tonumber(redis.call('GET', KEYS[1])) or now
if tat < now then
  tat = now
end
local new_tat = tat + interval
local allow_at = new_tat - window
if allow_at > now then
  return {0, 0, allow_at - now, tat - now}
end
redis.call('SET', KEYS[1], string.format('%d', new_tat), 'PX', math.ceil((new_tat - now) / 1000))
return {1, math.floor((now + window - new_tat) / interval), 0, new_tat - now}
