-- feed_claim.lua - claims the feed sources that are due, so that no two scouts fetch one source
-- at the same time: a claimed source's due time (its score in the schedule) moves to the end of
-- a lease, and only feed_done, feed_extend (while its poll is still being written) or the lease
-- running out makes it due again. A source not yet in the schedule is due at once. A folder's
-- files (the set feed_members keeps for it) are sources of their own, tried right after it.
-- KEYS[1] the schedule (sorted set: source -> due time, ms)
-- ARGV[1] the lease in ms, ARGV[2] how many sources to claim at most, ARGV[3] the prefix of a
--   folder's file set (the folder's source follows it), ARGV[4..] the caller's sources, in the
--   order it prefers them
-- Returns the claimed sources.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local lease = tonumber(ARGV[1])
local max = tonumber(ARGV[2])
local got = {}
local function try(source)
    if #got >= max then return end
    local due = redis.call('ZSCORE', KEYS[1], source)
    if not due or tonumber(due) <= now then
        redis.call('ZADD', KEYS[1], now + lease, source)
        got[#got + 1] = source
    end
end
for i = 4, #ARGV do
    if #got >= max then break end
    try(ARGV[i])
    local files = redis.call('SMEMBERS', ARGV[3] .. ARGV[i])
    table.sort(files)
    for _, f in ipairs(files) do try(f) end
end
return got
