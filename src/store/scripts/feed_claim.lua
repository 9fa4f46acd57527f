-- feed_claim.lua - claims the feed sources that are due, so that no two scouts fetch one source
-- at the same time: a claimed source's due time (its score in the schedule) moves to the end of
-- a lease, and only feed_done or the lease running out makes it due again. A source not yet in
-- the schedule is due at once.
-- KEYS[1] the schedule (sorted set: source -> due time, ms)
-- ARGV[1] the lease in ms, ARGV[2] how many sources to claim at most, ARGV[3..] the caller's
--   sources, in the order it prefers them
-- Returns the claimed sources.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local lease = tonumber(ARGV[1])
local max = tonumber(ARGV[2])
local got = {}
for i = 3, #ARGV do
    if #got >= max then break end
    local due = redis.call('ZSCORE', KEYS[1], ARGV[i])
    if not due or tonumber(due) <= now then
        redis.call('ZADD', KEYS[1], now + lease, ARGV[i])
        got[#got + 1] = ARGV[i]
    end
end
return got
