-- trace_store.lua - keeps one batch of trace events for `newsroom ctl trace` (see
-- src/observe/trace_store.h): each trace's events of the batch, as one JSON array, appended to
-- the trace's list, the list capped at its newest entries and set to expire, and the trace's
-- last event time in the index, which is trimmed to the same window and size.
-- KEYS[1] the index (sorted set), KEYS[2..] one list per trace in the batch
-- ARGV[1] keep ms, ARGV[2] entries kept per trace, ARGV[3] traces kept in the index,
--   ARGV[4] the length of the list keys' prefix, ARGV[5..] one entry per list key, in order
-- Returns the number of entries stored.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local keep = tonumber(ARGV[1])
local cap = tonumber(ARGV[2])
local imax = tonumber(ARGV[3])
local plen = tonumber(ARGV[4])
for k = 2, #KEYS do
    redis.call('RPUSH', KEYS[k], ARGV[k + 3])
    redis.call('LTRIM', KEYS[k], -cap, -1)
    redis.call('PEXPIRE', KEYS[k], keep)
    redis.call('ZADD', KEYS[1], now, string.sub(KEYS[k], plen + 1))
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. (now - keep))
local size = redis.call('ZCARD', KEYS[1])
if size > imax then
    redis.call('ZREMRANGEBYRANK', KEYS[1], 0, size - imax - 1)
end
return #KEYS - 1
