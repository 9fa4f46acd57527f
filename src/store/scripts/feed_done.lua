-- feed_done.lua - records the outcome of one poll of a feed source and schedules the next:
-- after a success (or a 304) the poll interval, after a failure the interval doubled for each
-- failure in a row, up to the backoff ceiling. Shared by every scout, so the backoff holds
-- whichever scout polls next.
-- KEYS[1] the source's status hash, KEYS[2] the schedule (sorted set)
-- ARGV[1] source, ARGV[2] outcome ("ok", "not_modified" or "error"), ARGV[3] interval ms,
--   ARGV[4] backoff ceiling ms, ARGV[5..] field/value pairs for the status hash
-- Returns the next due time (ms).
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local interval = tonumber(ARGV[3])
local ceiling = tonumber(ARGV[4])
local delay = interval
if ARGV[2] == 'error' then
    local failures = redis.call('HINCRBY', KEYS[1], 'failures', 1)
    delay = interval * math.pow(2, math.min(failures, 30))
    if delay > ceiling then delay = ceiling end
    if delay < interval then delay = interval end
else
    redis.call('HSET', KEYS[1], 'failures', 0, 'error', '', 'last_ok_ms', now)
end
local next_ms = now + delay
redis.call('HSET', KEYS[1], 'source', ARGV[1], 'status', ARGV[2], 'last_fetch_ms', now,
           'next_ms', next_ms)
if #ARGV >= 6 then
    redis.call('HSET', KEYS[1], unpack(ARGV, 5))
end
redis.call('ZADD', KEYS[2], next_ms, ARGV[1])
return next_ms
